package org.d2v.tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Owns the temporaries of one piece of work (typically one training step). Tensors allocated
 * while a scope is open on this thread are closed when it closes, unless {@link #keep} moved them
 * to the enclosing scope. Without an open scope, the caller owns what it allocates.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Deque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<AutoCloseable> owned = new ArrayList<>();
    private boolean closed;

    private Scope() {}

    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    public static Scope current() { return STACK.get().peek(); }

    static void track(AutoCloseable resource) {
        Scope s = current();
        if (s != null) s.owned.add(resource);
    }

    /** Moves {@code t} out of this scope into the enclosing one (or to the caller if none). */
    public <T extends AutoCloseable> T keep(T t) {
        if (owned.remove(t)) {
            Deque<Scope> stack = STACK.get();
            Scope parent = null;
            boolean seen = false;
            for (Scope s : stack) {
                if (seen) { parent = s; break; }
                if (s == this) seen = true;
            }
            if (parent != null) parent.owned.add(t);
        }
        return t;
    }

    public int size() { return owned.size(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Deque<Scope> stack = STACK.get();
        if (stack.peek() != this) throw new IllegalStateException("scopes must close innermost first");
        stack.pop();
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) first = new RuntimeException("closing a scoped resource failed", e);
            }
        }
        owned.clear();
        if (first != null) throw first;
    }
}
