// The floor for a Swift host's start-up: a static hello world, built as gwlua is
// (scripts/bench startup runs both in one run).
print("hello, world")
