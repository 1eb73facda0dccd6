/* The host-side kernels of libd2v_cpu that live in their own files, as openblas.c's native-kernel
 * callbacks call them once OpenCL has replaced the buffers by their host addresses. */
#ifndef D2V_HOST_KERNELS_H
#define D2V_HOST_KERNELS_H
#include <stdint.h>

/* Fused attention (org.d2v.backend.AttentionDesc, kernels/attention.cl), fp32: qkv [B,T,3,H,Dh],
 * out and dout [B,T,H,Dh], lse [B,H,T]; slopes, ascale [H] and pos [B,T] with ALiBi, pad [B,T]
 * with key padding (NULL otherwise); dropout keeps p where the Philox word of element
 * ((b·H + h)·T + i)·T + j of (seed, offset) is not below drop_threshold (0: no dropout). */
typedef struct {
    int32_t batch, tokens, heads, head_dim, alibi, key_padding, accumulate;
    float scale, drop_scale;
    int64_t drop_threshold;
    uint64_t seed, offset;
} attention_desc;

typedef struct {
    const float *qkv, *slopes, *ascale, *out, *dout, *lse;
    const int32_t *pos, *pad;
    float *out_w, *lse_w, *dqkv, *dscale; /* forward writes out_w, lse_w; backward dqkv (+)= and dscale += */
} attention_tensors;

/* Each returns 0, or -1 when its scratch could not be allocated (nothing written then). */
int d2v_attention_forward(const attention_desc *d, const attention_tensors *t);
int d2v_attention_backward(const attention_desc *d, const attention_tensors *t);

#endif
