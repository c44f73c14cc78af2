import GatewayKit

/// The local emulator of the gateway API (filled by the emulator issue).
public enum GatewaySim {}
