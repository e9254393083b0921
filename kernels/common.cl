/* Put in front of every clconv kernel file. OpenCL C 1.2, no extensions. */

/* Integer ceiling division for non-negative operands. */
#define CLCONV_DIV_UP(a, b) (((a) + (b) - 1) / (b))
