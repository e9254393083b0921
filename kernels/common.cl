/* Put in front of every clconv kernel file (host/program.c). OpenCL C 1.2,
 * no extensions. What more than one kernel file needs is written here once:
 * index arithmetic, the vector types of the VEC-lane kernels, the epilogue.
 * Pooling's own helpers are in pool_common.cl (pooling programs only). */

/* Integer ceiling division for non-negative operands. */
#define CLCONV_DIV_UP(a, b) (((a) + (b) - 1) / (b))

/* Vector types for the kernels built with -DVEC=4, 8 or 16 (lanes of
 * channels, columns or pixels): floatV is floatVEC, vloadV vloadVEC, ... */
#define VCAT2(a, b) a##b
#define VCAT(a, b) VCAT2(a, b)
#ifdef VEC
#define floatV VCAT(float, VEC)
#define intV VCAT(int, VEC)
#define longV VCAT(long, VEC)
#define vloadV VCAT(vload, VEC)
#define vstoreV VCAT(vstore, VEC)
#define convert_floatV VCAT(convert_float, VEC)
#define convert_longV VCAT(convert_long, VEC)
#endif

/* The epilogue of every kernel that writes a convolution's output: bias, then
 * ReLU. One policy: both are runtime flags, never -D constants (they cost one
 * uniform branch per output and would otherwise multiply the compiled
 * variants by four). ReLU is not fmax: fmax would turn NaN into 0, and
 * PyTorch's relu lets NaN through (NaN < 0 is false). */
inline float clconv_epilogue(float acc, __global const float *b, int oc, int has_bias, int relu)
{
    if (has_bias)
        acc += b[oc];
    if (relu && acc < 0.0f)
        acc = 0.0f;
    return acc;
}

#ifdef VEC
/* The same on VEC lanes with one bias (select keeps NaN). */
inline floatV clconv_epilogue_v(floatV acc, float bias, int relu)
{
    acc += (floatV)(bias);
    return relu ? select(acc, (floatV)(0.0f), acc < (floatV)(0.0f)) : acc;
}
#endif
