package org.d2v.jni;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * Loads d2v's own JNI libraries (built from {@code native/} by {@code make native}) once per
 * process, and remembers why one did not load.
 *
 * <p>The libraries travel in the jar under {@code org/d2v/native/<platform>/}; a library is
 * copied to a cache folder named after its content hash (so concurrent processes, such as the
 * ranks of one job, share one copy and never see a half-written file) and loaded from there.
 * {@value #DIR_PROPERTY} names a folder to load them from instead. Where the build skipped a
 * library it left {@code <library>.missing} with the reason (no mpicc, no JNI headers, ...),
 * which becomes the reason reported here.
 */
public final class NativeLibraries {
    /** A folder holding the .so files to load instead of the jar's copies. */
    public static final String DIR_PROPERTY = "d2v.native.dir";
    /** Where the jar's copies are extracted (default: the temp folder). */
    public static final String CACHE_PROPERTY = "d2v.native.cache";

    public enum Library {
        GPU("d2v_gpu", "cuBLASLt and NCCL bindings"),
        MPI("d2v_mpi", "MPI bindings"),
        CPU("d2v_cpu", "OpenBLAS GEMMs as OpenCL native kernels");

        private final String base;
        private final String purpose;

        Library(String base, String purpose) {
            this.base = base;
            this.purpose = purpose;
        }

        public String fileName() { return "lib" + base + ".so"; }

        public String purpose() { return purpose; }
    }

    /** Whether a library loaded; {@code detail} is the file it loaded from, or the reason it did not. */
    public record Status(Library library, boolean loaded, String detail) {
        public String describe() {
            return library.fileName() + " (" + library.purpose() + "): " + (loaded ? "loaded from " + detail : detail);
        }
    }

    private static final Map<Library, Status> STATUS = new EnumMap<>(Library.class);

    private NativeLibraries() {}

    /** Loads {@code library} on first use; never throws. */
    public static synchronized Status load(Library library) {
        Status s = STATUS.get(library);
        if (s == null) {
            s = tryLoad(library, System.getProperty(DIR_PROPERTY));
            STATUS.put(library, s);
        }
        return s;
    }

    /** Loads {@code library} or throws with the reason it is not available. */
    public static void require(Library library) {
        Status s = load(library);
        if (!s.loaded()) throw new NativeUnavailableException(s.describe());
    }

    /** The resource folder for this platform, e.g. "org/d2v/native/linux-x86_64/", or null where d2v builds none. */
    static String resourceFolder() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = switch (System.getProperty("os.arch", "")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        return os.startsWith("linux") && arch != null ? "org/d2v/native/linux-" + arch + "/" : null;
    }

    /** Loads {@code library} from {@code dir} (null: from the class path); the status says from where or why not. */
    static Status tryLoad(Library library, String dir) {
        String file = library.fileName();
        Path path;
        if (dir != null && !dir.isBlank()) {
            path = Path.of(dir).resolve(file).toAbsolutePath();
            if (!Files.isRegularFile(path)) {
                Path missing = path.resolveSibling(file + ".missing");
                String why = Files.isRegularFile(missing) ? readText(missing) : "no " + path + " (" + DIR_PROPERTY + "=" + dir + ")";
                return new Status(library, false, "native library not built: " + why);
            }
        } else {
            String folder = resourceFolder();
            if (folder == null) {
                return new Status(library, false, "native library not built: d2v builds " + file + " for Linux on x86_64 and aarch64, not for "
                        + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
            }
            try {
                path = extract(folder, file);
            } catch (IOException e) {
                return new Status(library, false, "native library " + file + " could not be unpacked: " + e.getMessage());
            }
            if (path == null) {
                String why = resourceText(folder + file + ".missing");
                return new Status(library, false, "native library not built: " + (why != null ? why
                        : file + " is not in this build (org/d2v/native/ on the class path); build it with make native"));
            }
        }
        try {
            System.load(path.toString());
        } catch (UnsatisfiedLinkError e) {
            return new Status(library, false, "native library " + path + " did not load: " + e.getMessage());
        }
        return new Status(library, true, path.toString());
    }

    /** Copies the resource to the cache (once per content) and returns its path; null if the resource is absent. */
    private static Path extract(String folder, String file) throws IOException {
        byte[] bytes;
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(folder + file)) {
            if (in == null) return null;
            bytes = in.readAllBytes();
        }
        Path dir = cacheRoot().resolve(sha256(bytes).substring(0, 16));
        Path target = dir.resolve(file);
        if (Files.isRegularFile(target) && Files.size(target) == bytes.length) return target;
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, file, ".part");
        try {
            Files.write(temp, bytes);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        return target;
    }

    /** A folder of this user's: created owner-only; a fresh private one if the shared name is someone else's. */
    private static Path cacheRoot() throws IOException {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) return Path.of(configured);
        String user = System.getProperty("user.name", "user");
        Path root = Path.of(System.getProperty("java.io.tmpdir")).resolve("d2v-native-" + user.replaceAll("[^A-Za-z0-9._-]", "_"));
        try {
            if (!Files.isDirectory(root)) {
                Files.createDirectories(root);
                try {
                    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: keep the default permissions
                }
            }
            // Loading code from a folder another user controls would run their code: never do that.
            if (Files.isWritable(root) && Files.getOwner(root).getName().equals(user)) return root;
        } catch (IOException e) {
            // fall through to a private folder
        }
        return Files.createTempDirectory("d2v-native-");
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String resourceText(String name) {
        try (InputStream in = NativeLibraries.class.getClassLoader().getResourceAsStream(name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return null;
        }
    }

    private static String readText(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (IOException e) {
            return "unreadable " + p + ": " + e.getMessage();
        }
    }
}
