package org.d2v.jni;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * Raw addresses for the bindings, which take pointers and handles as {@code long}s.
 *
 * <p>JCuda keeps a handle's value (a CUstream, a CUdeviceptr) in the private field
 * {@code nativePointer} of {@link NativePointerObject}, plus {@code byteOffset} for pointers made
 * with {@code withByteOffset}; its getter is protected. JCuda is on the class path (the unnamed
 * module), so a private lookup may read both fields.
 */
public final class NativeHandles {
    private static final VarHandle NATIVE_POINTER;
    private static final VarHandle BYTE_OFFSET;

    static {
        try {
            NATIVE_POINTER = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup())
                    .findVarHandle(NativePointerObject.class, "nativePointer", long.class);
            BYTE_OFFSET = MethodHandles.privateLookupIn(Pointer.class, MethodHandles.lookup())
                    .findVarHandle(Pointer.class, "byteOffset", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("this JCuda version keeps its handles elsewhere: " + e);
        }
    }

    private NativeHandles() {}

    /** The native value of a JCuda handle: a CUstream's handle, a CUdeviceptr's device address (with its offset). */
    public static long address(NativePointerObject handle) {
        if (handle == null) return 0;
        long p = (long) NATIVE_POINTER.get(handle);
        return handle instanceof Pointer q ? p + (long) BYTE_OFFSET.get(q) : p;
    }

    /** The host address of a direct buffer (needs libd2v_gpu). */
    public static long address(ByteBuffer direct) {
        if (direct == null || !direct.isDirect()) throw new IllegalArgumentException("not a direct buffer: " + direct);
        NativeLibraries.require(NativeLibraries.Library.GPU);
        return nativeBufferAddress(direct);
    }

    /** The largest power of two up to 256 that divides {@code address} (256 for null): the alignment cuBLASLt asks for. */
    public static int alignment(long address) {
        if (address == 0) return 256;
        return (int) Math.min(256, Long.lowestOneBit(address));
    }

    private static native long nativeBufferAddress(ByteBuffer buffer);
}
