/*
 * banned.h: C library functions LaunchPad never calls (after git's banned.h).
 *
 * Each has a bounded or reentrant replacement: strcpy/strcat/strncpy/strncat/sprintf/vsprintf →
 * lp_fmt (fails instead of truncating), lp_fmt_text (human text, cut visibly) or snprintf with its
 * result checked; strtok → strtok_r;
 * gmtime/localtime/ctime/asctime → their _r forms. A call compiles into a reference to
 * sorry_<name>_is_a_banned_function, an error under -Werror. Included through error.h, after
 * the system headers that declare the names, so those declarations stay intact.
 */
#ifndef LAUNCHPAD_BANNED_H
#define LAUNCHPAD_BANNED_H

#include <stdio.h>
#include <string.h>
#include <time.h>

#define LP_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) LP_BANNED(strcpy)
#undef strcat
#define strcat(x, y) LP_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) LP_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) LP_BANNED(strncat)
#undef sprintf
#define sprintf(...) LP_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) LP_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) LP_BANNED(strtok)
#undef gmtime
#define gmtime(t) LP_BANNED(gmtime)
#undef localtime
#define localtime(t) LP_BANNED(localtime)
#undef ctime
#define ctime(t) LP_BANNED(ctime)
#undef asctime
#define asctime(t) LP_BANNED(asctime)

#endif
