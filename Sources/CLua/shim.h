/* The C side of gwlua's Lua host: what Swift cannot import (macros), and the few
 * functions that must be C because they raise Lua errors (longjmp) — Swift frames
 * must never be on the stack when Lua unwinds. */
#ifndef GWLUA_CLUA_SHIM_H
#define GWLUA_CLUA_SHIM_H

#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- Per-state host record, reached through lua_getextraspace. ----------- */

/* Swift's single dispatcher: runs the Swift function bound to the running C
 * closure. Returns the number of results, or -1 with an error value on top. */
typedef int (*gwlua_dispatch_fn)(lua_State *L);

typedef struct gwlua_host {
    gwlua_dispatch_fn dispatch;
    size_t used;         /* bytes currently allocated by this state */
    size_t peak;         /* high-water mark of `used` */
    size_t limit;        /* 0 = unlimited */
    int enforce;         /* allocations may fail only while Lua (not Swift) runs */
    int memory_exceeded; /* set when an allocation was refused for the cap */
    void *swift;         /* the owning Swift object (unretained) */
    /* Limits and interrupts (see "Hooks" below). */
    long long instruction_limit; /* 0 = unlimited */
    long long instructions;      /* counted in steps of GWLUA_HOOK_PERIOD */
    int instructions_exceeded;
    int stop;                    /* atomic: an interrupt is pending until cleared */
    int interrupting;            /* atomic: interrupters touching `running` */
    lua_State *running;          /* atomic: the coroutine being resumed, if any */
} gwlua_host;

static inline gwlua_host *gwlua_gethost(lua_State *L) {
    return *(gwlua_host **)lua_getextraspace(L);
}

/* Allocator with an optional cap. While a Swift frame runs (enforce == 0) it
 * never refuses, so an out-of-memory longjmp can only start in a C/Lua frame;
 * the trampoline re-checks the cap once the Swift frame is gone. */
static inline void *gwlua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    gwlua_host *h = (gwlua_host *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    if (h->limit && h->enforce && nsize > old && h->used - old + nsize > h->limit) {
        h->memory_exceeded = 1;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    h->used = h->used - old + nsize;
    if (h->used > h->peak) h->peak = h->used;
    return p;
}

/* Warning function in the manner of lauxlib's (which is static there):
 * off until "@on", messages to stderr prefixed "Lua warning: ". */
typedef struct gwlua_warnstate { int on; int cont; } gwlua_warnstate;

static inline void gwlua_warnf(void *ud, const char *msg, int tocont) {
    gwlua_warnstate *w = (gwlua_warnstate *)ud;
    if (!w->cont && *msg == '@') { /* control message */
        if (strcmp(msg, "@off") == 0) w->on = 0;
        else if (strcmp(msg, "@on") == 0) w->on = 1;
        return;
    }
    if (w->on) {
        if (!w->cont) fputs("Lua warning: ", stderr);
        fputs(msg, stderr);
        if (!tocont) fputs("\n", stderr);
        fflush(stderr);
    }
    w->cont = tocont;
}

static inline lua_State *gwlua_newstate(gwlua_host *h, gwlua_warnstate *w) {
    lua_State *L = lua_newstate(gwlua_alloc, h);
    if (L == NULL) return NULL;
    *(gwlua_host **)lua_getextraspace(L) = h;
    lua_setwarnf(L, gwlua_warnf, w);
    return L;
}

/* ---- The trampoline. ------------------------------------------------------ */

/* Every Swift function is this C closure; upvalue 1 holds the Swift box.
 * lua_error runs here, after the Swift frame has returned. */
static inline int gwlua_trampoline(lua_State *L) {
    gwlua_host *h = gwlua_gethost(L);
    int saved = h->enforce;
    h->enforce = 0;
    int n = h->dispatch(L);
    h->enforce = saved;
    if (n < 0) return lua_error(L);
    if (h->limit && saved && h->used > h->limit) {
        h->memory_exceeded = 1;
        lua_pushliteral(L, "not enough memory");
        return lua_error(L);
    }
    return n;
}

static inline void gwlua_pushswiftclosure(lua_State *L) {
    lua_pushcclosure(L, gwlua_trampoline, 1);
}

/* Calls with the allocator cap enforced for the duration of the Lua code. */
static inline int gwlua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    gwlua_host *h = gwlua_gethost(L);
    int saved = h->enforce;
    h->enforce = 1;
    int status = lua_pcallk(L, nargs, nresults, msgh, 0, NULL);
    h->enforce = saved;
    return status;
}



/* ---- Message handler: the error message plus a traceback (lua.c's). ------ */
static inline int gwlua_msghandler(lua_State *L) {
    /* A structured error's code (raw read: no metamethods) decides the exit status. */
    if (lua_type(L, 1) == LUA_TTABLE) {
        lua_pushliteral(L, "code");
        if (lua_rawget(L, 1) == LUA_TSTRING) lua_setfield(L, LUA_REGISTRYINDEX, "gwlua.errorcode");
        else lua_pop(L, 1);
    }
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* A handler that keeps non-string error values as they are (for pcall-like
 * use from Swift, where a structured error must survive), and adds a traceback
 * to string messages, stored in the registry field "gwlua.traceback". */
static inline int gwlua_keephandler(lua_State *L) {
    if (lua_type(L, 1) == LUA_TSTRING) return gwlua_msghandler(L);
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "gwlua.traceback");
    lua_settop(L, 1);
    return 1;
}

/* True when the state is past its memory cap: Swift code that builds large
 * values (json) checks it as it goes, since the allocator never refuses a
 * Swift frame. `extra` counts bytes held outside Lua for the same value. */
static inline int gwlua_overlimit(lua_State *L, size_t extra) {
    gwlua_host *h = gwlua_gethost(L);
    return h->limit != 0 && h->used + extra > h->limit;
}

/* ---- Hooks: interrupts and the instruction limit. -------------------------
 * Lua 5.4 sends every instruction through luaG_traceexec while any count hook
 * is set, so a state with no instruction limit runs with no hook at all until
 * an interrupt installs one. Hooks are per thread: a coroutine copies its
 * creator's hook, and an interrupt also hooks the coroutine being resumed
 * (tracked by gwlua_resume_tracked / gwlua_wrap_tracked below). */
#define GWLUA_HOOK_PERIOD 1000

static inline void gwlua_hook(lua_State *L, lua_Debug *ar);

/* The hook a thread has when nothing is pending. */
static inline void gwlua_sethook_base(lua_State *L) {
    if (gwlua_gethost(L)->instruction_limit > 0)
        lua_sethook(L, gwlua_hook, LUA_MASKCOUNT, GWLUA_HOOK_PERIOD);
    else
        lua_sethook(L, NULL, 0, 0);
}

/* Raises `message` positioned at the running Lua line. */
static inline int gwlua_hookerror(lua_State *L, lua_Debug *ar, const char *message) {
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        lua_pushfstring(L, "%s:%d: %s", ar->short_src, ar->currentline, message);
    else
        lua_pushstring(L, message);
    return lua_error(L);
}

static inline void gwlua_hook(lua_State *L, lua_Debug *ar) {
    gwlua_host *h = gwlua_gethost(L);
    /* Once stopped, every instruction raises again (as Redis does after a
     * kill), so a pcall in a loop cannot swallow the stop: the instruction
     * after the pcall raises in its caller. Message handlers written in C
     * run no instructions and still work. */
    if (__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        lua_sethook(L, gwlua_hook, LUA_MASKCOUNT, 1);
        gwlua_hookerror(L, ar, "interrupted!");
        return;
    }
    if (h->instruction_limit > 0 && !h->instructions_exceeded && ar->event == LUA_HOOKCOUNT
        && lua_gethookcount(L) == GWLUA_HOOK_PERIOD) {
        h->instructions += GWLUA_HOOK_PERIOD;
        if (h->instructions > h->instruction_limit) h->instructions_exceeded = 1;
    }
    if (h->instruction_limit > 0 && h->instructions_exceeded) {
        char message[96];
        snprintf(message, sizeof message, "the instruction limit of %lld was reached", h->instruction_limit);
        lua_sethook(L, gwlua_hook, LUA_MASKCOUNT, 1);
        gwlua_hookerror(L, ar, message);
        return;
    }
    if (h->instruction_limit <= 0 || lua_gethookcount(L) != GWLUA_HOOK_PERIOD || ar->event != LUA_HOOKCOUNT)
        gwlua_sethook_base(L); /* left from a stop that has been cleared */
}

static inline void gwlua_setinstructionlimit(lua_State *L, long long limit) {
    gwlua_host *h = gwlua_gethost(L);
    h->instruction_limit = limit > 0 ? limit : 0;
    h->instructions = 0;
    h->instructions_exceeded = 0;
    gwlua_sethook_base(L);
}

/* Async-signal-safe: may be called from a signal handler or another thread.
 * Stops the main thread and the coroutine running now at their next
 * instruction, call or return ("interrupted!"), until gwlua_clearstop. */
static inline void gwlua_interrupt(lua_State *L) {
    gwlua_host *h = gwlua_gethost(L);
    const int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;
    __atomic_store_n(&h->stop, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&h->interrupting, 1, __ATOMIC_SEQ_CST);
    lua_State *co = __atomic_load_n(&h->running, __ATOMIC_SEQ_CST);
    if (co != NULL) lua_sethook(co, gwlua_hook, mask, 1);
    __atomic_sub_fetch(&h->interrupting, 1, __ATOMIC_SEQ_CST);
    lua_sethook(L, gwlua_hook, mask, 1);
}

/* On the Lua thread: forgets a pending stop (the REPL does after reporting). */
static inline void gwlua_clearstop(lua_State *L) {
    __atomic_store_n(&gwlua_gethost(L)->stop, 0, __ATOMIC_SEQ_CST);
    gwlua_sethook_base(L);
}

/* Marks `co` as the coroutine running; returns the one it replaces. */
static inline lua_State *gwlua_enter(gwlua_host *h, lua_State *co) {
    lua_State *previous = __atomic_exchange_n(&h->running, co, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))
        lua_sethook(co, gwlua_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    return previous;
}

/* Restores the previous one, then waits out any interrupter still holding
 * `co` (which may be collected once we return). */
static inline void gwlua_leave(gwlua_host *h, lua_State *previous) {
    __atomic_store_n(&h->running, previous, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&h->interrupting, __ATOMIC_SEQ_CST) != 0) {}
}

/* Calls the function below the arguments (the original resume or wrapper)
 * with `co` marked as running. An error passes through unchanged, except that
 * with `position` a string message gets the Lua caller's position, which the
 * original wrapper adds but can no longer see from behind this C frame. */
static inline int gwlua_calltracked(lua_State *L, lua_State *co, int position) {
    gwlua_host *h = gwlua_gethost(L);
    int nargs = lua_gettop(L) - 1;
    lua_State *previous = co != NULL ? gwlua_enter(h, co) : NULL;
    int status = lua_pcallk(L, nargs, LUA_MULTRET, 0, 0, NULL);
    if (co != NULL) gwlua_leave(h, previous);
    if (status == LUA_OK) return lua_gettop(L);
    if (position && status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* coroutine.resume, with upvalue 1 the original. */
static inline int gwlua_resume_tracked(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    return gwlua_calltracked(L, co, 0);
}

/* What coroutine.wrap returns, with upvalue 1 the original wrapper (whose
 * first upvalue is its coroutine). */
static inline int gwlua_wrapped_call(lua_State *L) {
    lua_State *co = NULL;
    if (lua_getupvalue(L, lua_upvalueindex(1), 1) != NULL) {
        co = lua_tothread(L, -1);
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    return gwlua_calltracked(L, co, 1);
}

/* coroutine.wrap, with upvalue 1 the original. */
static inline int gwlua_wrap_tracked(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    lua_pushcclosure(L, gwlua_wrapped_call, 1);
    return 1;
}

/* Replaces coroutine.resume and coroutine.wrap (in the loaded library) with
 * the tracked ones. Run under protection after the libraries are open. */
static inline int gwlua_trackcoroutines_k(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, LUA_COLIBNAME) != LUA_TTABLE) return 0;
    if (lua_getfield(L, -1, "resume") == LUA_TFUNCTION) {
        lua_pushcclosure(L, gwlua_resume_tracked, 1);
        lua_setfield(L, -2, "resume");
    } else lua_pop(L, 1);
    if (lua_getfield(L, -1, "wrap") == LUA_TFUNCTION) {
        lua_pushcclosure(L, gwlua_wrap_tracked, 1);
        lua_setfield(L, -2, "wrap");
    } else lua_pop(L, 1);
    return 0;
}

/* ---- Protected helpers for operations that may run metamethods. ---------- */
static inline int gwlua_setglobal_k(lua_State *L) {
    /* 1: value, 2: name */
    lua_pushvalue(L, 1);
    lua_setglobal(L, lua_tostring(L, 2));
    return 0;
}

/* Pops the value on top and assigns it to global `name`, honouring any
 * __newindex on _G; returns a Lua status (error value left on top). */
static inline int gwlua_psetglobal(lua_State *L, const char *name) {
    lua_pushcfunction(L, gwlua_setglobal_k);
    lua_insert(L, -2);
    lua_pushstring(L, name);
    return gwlua_pcall(L, 2, 0, 0);
}

static inline int gwlua_getglobal_k(lua_State *L) {
    lua_getglobal(L, lua_tostring(L, 1));
    return 1;
}

/* Pushes global `name` (honouring __index on _G); returns a Lua status. */
static inline int gwlua_pgetglobal(lua_State *L, const char *name) {
    lua_pushcfunction(L, gwlua_getglobal_k);
    lua_pushstring(L, name);
    return gwlua_pcall(L, 1, 1, 0);
}

static inline int gwlua_openlibs_k(lua_State *L) {
    luaL_openlibs(L);
    return gwlua_trackcoroutines_k(L);
}

static inline int gwlua_popenlibs(lua_State *L) {
    lua_pushcfunction(L, gwlua_openlibs_k);
    return gwlua_pcall(L, 0, 0, 0);
}

static inline int gwlua_tostring_k(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

/* luaL_tolstring (which may run __tostring/__name) in protected mode. */
static inline int gwlua_ptostring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, gwlua_tostring_k);
    lua_pushvalue(L, idx);
    return gwlua_pcall(L, 1, 1, 0);
}

/* ---- Macros Swift cannot import. ----------------------------------------- */
static inline int gwlua_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int gwlua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void gwlua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline int gwlua_getmetatable(lua_State *L, const char *name) { return luaL_getmetatable(L, name); }
static inline void gwlua_newtable(lua_State *L) { lua_newtable(L); }
static inline void gwlua_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline void gwlua_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void gwlua_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void gwlua_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline int gwlua_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline lua_Number gwlua_tonumber(lua_State *L, int idx, int *isnum) { return lua_tonumberx(L, idx, isnum); }
static inline lua_Integer gwlua_tointeger(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
static inline const char *gwlua_tolstring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
static inline void *gwlua_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int gwlua_getuservalue(lua_State *L, int idx) { return lua_getiuservalue(L, idx, 1); }
static inline int gwlua_setuservalue(lua_State *L, int idx) { return lua_setiuservalue(L, idx, 1); }
static inline void gwlua_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline int gwlua_ridx_globals(void) { return LUA_RIDX_GLOBALS; }
static inline int gwlua_gc(lua_State *L, int what, int arg) { return lua_gc(L, what, arg); }
static inline int gwlua_gc_generational(lua_State *L) { return lua_gc(L, LUA_GCGEN, 0, 0); }
static inline int gwlua_gc_count_kb(lua_State *L) { return lua_gc(L, LUA_GCCOUNT, 0); }
static inline int gwlua_loadbuffer(lua_State *L, const char *buff, size_t sz, const char *name, const char *mode) {
    return luaL_loadbufferx(L, buff, sz, name, mode);
}
static inline int gwlua_loadfile(lua_State *L, const char *filename) { return luaL_loadfilex(L, filename, NULL); }
static inline const char *gwlua_copyright(void) { return LUA_COPYRIGHT; }
static inline const char *gwlua_release(void) { return LUA_RELEASE; }

static inline FILE *gwlua_stdout(void) { return stdout; }
static inline FILE *gwlua_stderr(void) { return stderr; }
static inline FILE *gwlua_stdin(void) { return stdin; }

/* A raw C function doing what the benchmark's Swift function does: the
 * baseline for the binding layer's cost. */
static inline int gwlua_bench_identity(lua_State *L) {
    lua_pushnumber(L, luaL_checknumber(L, 1));
    return 1;
}

#endif
