#ifndef GWLUA_CEDITLINE_SHIM_H
#define GWLUA_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>
#endif
