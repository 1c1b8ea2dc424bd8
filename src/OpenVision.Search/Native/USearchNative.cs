using System.Runtime.InteropServices;

namespace OpenVision.Search.Native;

/// <summary>The C API of USearch (usearch.h), from the native library the Cloud.Unum.USearch package ships. We call it
/// directly because the package's managed wrapper exposes neither <c>usearch_reserve</c> nor the thread settings,
/// without which an index can only be filled from one thread.</summary>
internal static unsafe partial class USearchNative
{
    private const string Library = "libusearch_c";

    // usearch_metric_kind_t and usearch_scalar_kind_t values (usearch.h).
    public const int MetricCos = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public int MetricKind;
        public nint Metric;          // user-defined metric callback; unused
        public int Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        public byte Multi;
    }

    [LibraryImport(Library, EntryPoint = "usearch_init")] public static partial nint Init(InitOptions* options, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_free")] public static partial void Free(nint index, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_save", StringMarshalling = StringMarshalling.Utf8)] public static partial void Save(nint index, string path, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_load", StringMarshalling = StringMarshalling.Utf8)] public static partial void Load(nint index, string path, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_view", StringMarshalling = StringMarshalling.Utf8)] public static partial void View(nint index, string path, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_size")] public static partial nuint Size(nint index, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_memory_usage")] public static partial nuint MemoryUsage(nint index, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_reserve")] public static partial void Reserve(nint index, nuint capacity, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_change_threads_add")] public static partial void ChangeThreadsAdd(nint index, nuint threads, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_change_threads_search")] public static partial void ChangeThreadsSearch(nint index, nuint threads, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")] public static partial void ChangeExpansionSearch(nint index, nuint expansion, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_add")] public static partial void Add(nint index, ulong key, float* vector, int vectorKind, byte** error);
    [LibraryImport(Library, EntryPoint = "usearch_search")] public static partial nuint Search(nint index, float* query, int queryKind, nuint count, ulong* keys, float* distances, byte** error);

    /// <summary>Throws when the C API reported an error (its messages are static strings, never freed).</summary>
    public static void Check(byte* error, string what)
    {
        if (error != null) throw new USearchIndexException($"{what}: {Marshal.PtrToStringUTF8((nint)error)}");
    }
}
