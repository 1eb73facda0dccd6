package org.d2v.jni;

import java.util.Arrays;
import java.util.List;

/** Which file names to dlopen for a vendor library: a system property (comma-separated) or the defaults. */
final class VendorLibrary {
    private VendorLibrary() {}

    static String[] names(String property, List<String> defaults) {
        String configured = System.getProperty(property);
        if (configured == null || configured.isBlank()) return defaults.toArray(new String[0]);
        return Arrays.stream(configured.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toArray(String[]::new);
    }
}
