/* Helpers shared by d2v's JNI libraries: raising Java exceptions with a formatted message, and
 * opening the first loadable of several vendor libraries with a reason that names every file
 * tried and what dlerror() said about it. */
#ifndef D2V_JNI_H
#define D2V_JNI_H

#include <jni.h>
#include <stddef.h>

/* Throws a new `class_name` (a RuntimeException with a String constructor) with a printf-style
 * message. Returns 0 so that callers can `return d2v_throw(...)` from int-returning helpers. */
int d2v_throw(JNIEnv *env, const char *class_name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dlopen()s the first of `names` that loads (RTLD_NOW | RTLD_LOCAL). On success returns the
 * handle and copies the name into `loaded` (if not NULL); on failure returns NULL and writes into
 * `reason` one clause per file: "libfoo.so.2: <dlerror text>; libfoo.so.1: <dlerror text>". */
void *d2v_open_first(JNIEnv *env, jobjectArray names, char *loaded, size_t loaded_cap,
                     char *reason, size_t reason_cap);

/* dlsym() with a reason: returns NULL and appends "<library> has no <symbol>" to `reason`. */
void *d2v_symbol(void *library, const char *library_name, const char *symbol, char *reason,
                 size_t reason_cap);

#endif
