package org.d2v.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends and opens devices by name; "auto" takes the highest-priority one that answers. */
public final class Backends {
    private Backends() {}

    public static List<Backend> all() {
        List<Backend> list = new ArrayList<>();
        for (Backend b : ServiceLoader.load(Backend.class)) list.add(b);
        list.sort(Comparator.comparingInt(Backend::priority).reversed());
        return list;
    }

    public static Backend find(String name) {
        for (Backend b : all()) if (b.name().equals(name)) return b;
        throw new IllegalArgumentException("unknown backend '" + name + "'; known: "
                + all().stream().map(Backend::name).toList());
    }

    /** The backend that "auto" picks: the highest priority whose probe answers. */
    public static Backend auto() {
        for (Backend b : all()) if (b.probe().available()) return b;
        throw new IllegalStateException("no backend available (the reference backend should always be)");
    }

    public static Device open(String name) {
        Backend b = "auto".equals(name) ? auto() : find(name);
        Backend.Probe p = b.probe();
        if (!p.available()) throw new IllegalStateException("backend '" + name + "' is not available: " + p.detail());
        return b.open();
    }
}
