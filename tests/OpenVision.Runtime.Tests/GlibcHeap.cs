using System.Runtime.InteropServices;

namespace OpenVision.Runtime.Tests;

/// <summary>Observes glibc's allocator from outside: whether a large block is served by its own mmap (glibc's default
/// above its mmap threshold, at most 32 MiB) or from the heap (what heap tuning's M_MMAP_MAX = 0 asks for).</summary>
internal static class GlibcHeap
{
    // Above the largest dynamic mmap threshold (32 MiB), so glibc's defaults always map it; below a secondary arena's
    // heap size (64 MiB), so a tuned allocator can serve it from a heap whichever arena this thread uses (a bigger
    // block would be mapped by a secondary arena even with M_MMAP_MAX = 0).
    private const int LargeBytes = 40 << 20;

    /// <summary>True where glibc's mallinfo2 exists (Linux with glibc 2.33 or later).</summary>
    public static bool Observable
    {
        get
        {
            try { _ = mallinfo2(); return true; }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return false; }
        }
    }

    /// <summary>Allocates 40 MiB with malloc (Marshal.AllocHGlobal on Unix) and reports whether glibc mapped it separately.</summary>
    public static bool LargeBlockIsMapped()
    {
        long before = (long)mallinfo2().hblkhd;
        IntPtr block = Marshal.AllocHGlobal(LargeBytes);
        try { return (long)mallinfo2().hblkhd - before >= LargeBytes; }
        finally { Marshal.FreeHGlobal(block); }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 mallinfo2();
}
