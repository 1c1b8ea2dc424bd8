using System.Runtime.InteropServices;

namespace OpenVision.Training.Distributed.Mpi;

/// <summary>The few MPI C functions data-parallel training needs, bound at run time from Open MPI's libmpi.</summary>
/// <remarks>Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>) are addresses of global
/// objects in libmpi (<c>&amp;ompi_mpi_comm_world</c>, …), so they are found with <see cref="NativeLibrary.GetExport"/>.
/// MPICH, Intel MPI and MS-MPI define the same handles as integer constants (a different ABI); they are refused with
/// a message rather than guessed at. The library is opened RTLD_GLOBAL because Open MPI's plugins, which it dlopens
/// itself, resolve some symbols against it (the reason mpi4py opens it the same way).</remarks>
internal sealed unsafe class MpiNative
{
    // mpi.h (Open MPI 4.x and 5.x): thread levels, MPI_IN_PLACE = (void*)1, MPI_SUCCESS = 0.
    public const int ThreadSingle = 0, ThreadFunneled = 1, ThreadSerialized = 2, ThreadMultiple = 3;
    public static readonly IntPtr InPlace = 1;

    private static readonly Lazy<MpiNative> Shared = new(() => new MpiNative(Load()));

    private MpiNative(IntPtr library)
    {
        IntPtr Fn(string name) => NativeLibrary.GetExport(library, name);
        if (!NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out var world))
            throw new DllNotFoundException($"{LibraryPath} is not Open MPI (no ompi_mpi_comm_world symbol); MPICH-ABI libraries are not supported, install openmpi-bin and libopenmpi-dev");
        CommWorld = world;
        Float = Fn("ompi_mpi_float");
        Double = Fn("ompi_mpi_double");
        Int = Fn("ompi_mpi_int");
        Int64 = Fn("ompi_mpi_long_long_int");
        Byte = Fn("ompi_mpi_byte");
        Sum = Fn("ompi_mpi_op_sum");
        Max = Fn("ompi_mpi_op_max");
        InitThread = (delegate* unmanaged<int*, IntPtr, int, int*, int>)Fn("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Fn("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Fn("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Fn("MPI_Finalize");
        CommRank = (delegate* unmanaged<IntPtr, int*, int>)Fn("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<IntPtr, int*, int>)Fn("MPI_Comm_size");
        Allreduce = (delegate* unmanaged<IntPtr, void*, int, IntPtr, IntPtr, IntPtr, int>)Fn("MPI_Allreduce");
        Allgather = (delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int>)Fn("MPI_Allgather");
        Allgatherv = (delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, int>)Fn("MPI_Allgatherv");
        ReduceScatterBlock = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)Fn("MPI_Reduce_scatter_block");
        Bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Fn("MPI_Bcast");
        Barrier = (delegate* unmanaged<IntPtr, int>)Fn("MPI_Barrier");
        Abort = (delegate* unmanaged<IntPtr, int, int>)Fn("MPI_Abort");
        Wtime = (delegate* unmanaged<double>)Fn("MPI_Wtime");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Fn("MPI_Error_string");
    }

    /// <summary>The process-wide binding; loads libmpi on first use.</summary>
    /// <exception cref="DllNotFoundException">No Open MPI library could be loaded.</exception>
    public static MpiNative Instance => Shared.Value;

    /// <summary>The library file that was loaded (or tried last).</summary>
    public static string LibraryPath { get; private set; } = "libmpi.so.40";

    public IntPtr CommWorld { get; }
    public IntPtr Float { get; }
    public IntPtr Double { get; }
    public IntPtr Int { get; }
    public IntPtr Int64 { get; }
    public IntPtr Byte { get; }
    public IntPtr Sum { get; }
    public IntPtr Max { get; }

    public delegate* unmanaged<int*, IntPtr, int, int*, int> InitThread { get; }
    public delegate* unmanaged<int*, int> Initialized { get; }
    public delegate* unmanaged<int*, int> Finalized { get; }
    public delegate* unmanaged<int> Finalize { get; }
    public delegate* unmanaged<IntPtr, int*, int> CommRank { get; }
    public delegate* unmanaged<IntPtr, int*, int> CommSize { get; }
    public delegate* unmanaged<IntPtr, void*, int, IntPtr, IntPtr, IntPtr, int> Allreduce { get; }
    public delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int> Allgather { get; }
    public delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, int> Allgatherv { get; }
    public delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> ReduceScatterBlock { get; }
    public delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> Bcast { get; }
    public delegate* unmanaged<IntPtr, int> Barrier { get; }
    public delegate* unmanaged<IntPtr, int, int> Abort { get; }
    public delegate* unmanaged<double> Wtime { get; }
    public delegate* unmanaged<int, byte*, int*, int> ErrorString { get; }

    /// <summary>The MPI datatype handle for <typeparamref name="T"/>.</summary>
    public IntPtr TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? Float
        : typeof(T) == typeof(double) ? Double
        : typeof(T) == typeof(int) ? Int
        : typeof(T) == typeof(long) ? Int64
        : typeof(T) == typeof(byte) ? Byte
        : throw new NotSupportedException($"no MPI datatype for {typeof(T).Name}");

    /// <summary>Throws with MPI's own description when <paramref name="code"/> is not MPI_SUCCESS.</summary>
    public void Check(int code, string call)
    {
        if (code == 0) return;
        var text = new byte[512];      // MPI_MAX_ERROR_STRING is 256 in Open MPI
        int length = 0;
        fixed (byte* p = text) ErrorString(code, p, &length);
        throw new InvalidOperationException($"{call} failed with MPI error {code}: {System.Text.Encoding.ASCII.GetString(text, 0, Math.Clamp(length, 0, text.Length))}");
    }

    private static IntPtr Load()
    {
        // OPENVISION_LIBMPI names a specific libmpi (e.g. a cluster's module); otherwise Debian's soname, then the dev link.
        string? overridden = Environment.GetEnvironmentVariable("OPENVISION_LIBMPI");
        string[] candidates = overridden is { Length: > 0 } ? [overridden] : ["libmpi.so.40", "libmpi.so", "libmpi.dylib"];
        foreach (var name in candidates)
        {
            LibraryPath = name;
            IntPtr handle = OperatingSystem.IsWindows() ? (NativeLibrary.TryLoad(name, out var h) ? h : 0) : dlopen(name, RtldNow | RtldGlobal);
            if (handle != 0) return handle;
        }
        throw new DllNotFoundException($"Open MPI's libmpi could not be loaded (tried {string.Join(", ", candidates)}); " +
            "install it (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) or set OPENVISION_LIBMPI to its path");
    }

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr dlopen(string path, int flags);
}
