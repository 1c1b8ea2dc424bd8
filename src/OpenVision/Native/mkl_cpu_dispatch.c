/* libtorch's bundled MKL asks mkl_serv_intel_cpu_true() before choosing its fast AVX2/AVX-512 kernels and
   takes generic code paths on non-Intel processors. MKL still picks the instruction set from CPUID after this
   check, so answering "yes" only lifts the vendor test. Loaded RTLD_GLOBAL before the first MKL call, this
   definition wins libtorch's lazy PLT lookup. See OpenVision/Native/MklCpuDispatch.cs. */
int mkl_serv_intel_cpu_true(void) { return 1; }
