package org.d2v.backend;

/**
 * LayerNorm over the last dimension: x viewed as [rows, dim]; mean and rstd [rows] are saved for
 * backward. Instance norm uses the same record with rows = batch·time grouped as
 * [batch, time, dim] and normalises each (batch, channel) over time: see {@link Ops#instanceNorm}.
 */
public record NormDesc(int rows, int dim, double eps) {
    public NormDesc {
        if (rows < 1 || dim < 1) throw new IllegalArgumentException("bad norm sizes " + rows + "x" + dim);
    }
}
