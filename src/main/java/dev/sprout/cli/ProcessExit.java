package dev.sprout.cli;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * Ends the process at once through the C library's {@code _exit}, which runs no exit handlers. Runtime.halt and
 * System.exit end in the C library's {@code exit}, whose handlers run libtorch's static destructors while another
 * thread may still be inside a libtorch call (a training step in flight): that thread then calls through destroyed
 * state and the JVM dies of SIGSEGV (status 134, seen in at::accelerator::getAccelerator) instead of the status asked for.
 *
 * <p>Java has no {@code _exit} before the foreign function API, so it is called through JavaCPP: a FunctionPointer
 * whose native {@code call(int)} calls the {@code void (*)(int)} held at the start of the struct its address points to
 * (JavaCPP's layout for function pointers). OpenBLAS's {@code openblas_set_num_threads} callback type has that
 * signature and ships with libtorch's presets.
 */
final class ProcessExit {
    private ProcessExit() {}

    /** Flushes stdout and stderr and ends the process with {@code status}; never returns. */
    static void now(int status) {
        System.out.flush();
        System.err.flush();
        try {
            Pointer exit = Loader.addressof("_exit");
            if (exit != null && !exit.isNull()) {
                LongPointer callee = new LongPointer(1);
                callee.put(0, exit.address());
                new openblas_nolapack.SetNumThreads(callee).call(status);
            }
        } catch (Throwable e) {
            // the natives are missing or changed: halt is what is left (it may crash a step in flight, see above)
        }
        Runtime.getRuntime().halt(status);
    }
}
