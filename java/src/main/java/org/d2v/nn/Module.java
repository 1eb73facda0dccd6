package org.d2v.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.d2v.autograd.F;
import org.d2v.backend.RandomStream;
import org.d2v.tensor.Tensor;

/**
 * Base of the nn modules: named children and the train/eval mode. Parameters are not held here
 * but declared on a {@link ParameterStore.Builder} when the module is constructed, so a model's
 * parameters all land in one flat buffer. In train mode dropout draws from the module's
 * {@link RandomStream}; in eval mode it is the identity.
 */
public abstract class Module {
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training;
    private RandomStream random;

    /** Registers a child under {@code name} (for mode changes and printing); returns it. */
    protected <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null) throw new IllegalArgumentException("child '" + name + "' registered twice");
        return module;
    }

    public Map<String, Module> children() { return Collections.unmodifiableMap(children); }

    /** Train mode for this module and its children; dropout masks come from {@code rng}. */
    public void train(RandomStream rng) {
        if (rng == null) throw new IllegalArgumentException("train mode needs a RandomStream for dropout");
        training = true;
        random = rng;
        for (Module c : children.values()) c.train(rng);
    }

    /** Eval mode for this module and its children: no dropout. */
    public void eval() {
        training = false;
        for (Module c : children.values()) c.eval();
    }

    public boolean isTraining() { return training; }

    /** The dropout stream in train mode, else null. */
    protected RandomStream random() { return training ? random : null; }

    /** Dropout with probability p in train mode, the identity otherwise. */
    protected Tensor dropout(Tensor x, double p) { return training && p > 0 ? F.dropout(x, p, random) : x; }
}
