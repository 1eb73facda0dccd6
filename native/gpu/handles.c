/* The address behind a direct NIO buffer: lets tests and host-side callers pass host memory where
 * the bindings take raw pointers (Java has no public API for it). */
#include <jni.h>
#include <stdint.h>

#include "../common/d2v_jni.h"

JNIEXPORT jlong JNICALL Java_org_d2v_jni_NativeHandles_nativeBufferAddress(JNIEnv *env, jclass cls, jobject buffer) {
    (void)cls;
    void *address = buffer == NULL ? NULL : (*env)->GetDirectBufferAddress(env, buffer);
    if (address == NULL) d2v_throw(env, "java/lang/IllegalArgumentException", "not a direct buffer");
    return (jlong)(intptr_t)address;
}
