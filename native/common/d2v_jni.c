#include "d2v_jni.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int d2v_throw(JNIEnv *env, const char *class_name, const char *fmt, ...) {
    char message[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    if ((*env)->ExceptionCheck(env)) return 0; /* keep the first exception: it is the cause */
    jclass cls = (*env)->FindClass(env, class_name);
    if (cls == NULL) return 0; /* FindClass has thrown NoClassDefFoundError */
    (*env)->ThrowNew(env, cls, message);
    return 0;
}

static void append(char *buffer, size_t cap, const char *text) {
    size_t used = strlen(buffer);
    if (used + 1 < cap) snprintf(buffer + used, cap - used, "%s", text);
}

void *d2v_open_first(JNIEnv *env, jobjectArray names, char *loaded, size_t loaded_cap,
                     char *reason, size_t reason_cap) {
    reason[0] = '\0';
    jsize count = names == NULL ? 0 : (*env)->GetArrayLength(env, names);
    if (count == 0) {
        append(reason, reason_cap, "no library file names given");
        return NULL;
    }
    for (jsize i = 0; i < count; i++) {
        jstring jname = (jstring)(*env)->GetObjectArrayElement(env, names, i);
        if (jname == NULL) continue;
        const char *name = (*env)->GetStringUTFChars(env, jname, NULL);
        if (name == NULL) return NULL; /* OutOfMemoryError pending */
        dlerror();
        void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (handle != NULL) {
            if (loaded != NULL) snprintf(loaded, loaded_cap, "%s", name);
            (*env)->ReleaseStringUTFChars(env, jname, name);
            (*env)->DeleteLocalRef(env, jname);
            return handle;
        }
        const char *why = dlerror();
        if (reason[0] != '\0') append(reason, reason_cap, "; ");
        /* dlerror() usually starts with the file name already ("libx.so: cannot open ..."). */
        if (why == NULL) {
            append(reason, reason_cap, name);
            append(reason, reason_cap, ": not loadable");
        } else if (strncmp(why, name, strlen(name)) == 0) {
            append(reason, reason_cap, why);
        } else {
            append(reason, reason_cap, name);
            append(reason, reason_cap, ": ");
            append(reason, reason_cap, why);
        }
        (*env)->ReleaseStringUTFChars(env, jname, name);
        (*env)->DeleteLocalRef(env, jname);
    }
    return NULL;
}

void *d2v_symbol(void *library, const char *library_name, const char *symbol, char *reason,
                 size_t reason_cap) {
    dlerror();
    void *p = dlsym(library, symbol);
    if (p == NULL) {
        if (reason[0] != '\0') append(reason, reason_cap, "; ");
        append(reason, reason_cap, library_name);
        append(reason, reason_cap, " has no ");
        append(reason, reason_cap, symbol);
    }
    return p;
}
