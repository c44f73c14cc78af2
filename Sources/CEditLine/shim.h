#ifndef GWLUA_CEDITLINE_SHIM_H
#define GWLUA_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>

/* readline's globals, set from one place (Swift 6 cannot touch C globals freely). */
static inline void gwlua_rl_setup(rl_completion_func_t *complete) {
    rl_readline_name = "gwlua";
    /* '.' and ':' belong to a word, so `gateway.bu` and `c:cr` complete whole. */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^#~[]";
    rl_attempted_completion_function = complete;
    rl_completion_append_character = 0;
    rl_initialize();
}

/* Tells readline not to fall back to file-name completion. */
static inline void gwlua_rl_completion_over(void) { rl_attempted_completion_over = 1; }
#endif
