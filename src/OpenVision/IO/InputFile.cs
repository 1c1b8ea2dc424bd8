using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenVision.IO;

/// <summary>Reads files a user names (images, text lists, configs) with bounds: only regular files are opened, so a
/// FIFO never blocks and a device such as <c>/dev/zero</c> is never read; sizes and line lengths are capped and the
/// file is read through a bounded buffer, so a file that grows while it is read cannot exhaust memory either.</summary>
public static class InputFile
{
    /// <summary>Throws <see cref="InputFileException"/> unless <paramref name="path"/> is a regular file (symbolic links
    /// are followed); FIFOs, sockets, character and block devices and directories are refused by name.</summary>
    public static void RequireRegular(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new InputFileException(path, "is a directory, not a file");
        if (!File.Exists(path)) throw new InputFileException(path, "no such file");
        string? kind = FileKind.NonRegular(path);
        if (kind is not null) throw new InputFileException(path, $"not a regular file ({kind}); only regular files are read");
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        var buffer = ReadAllBytesLeased(path, maxBytes, out int length);
        try
        {
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a whole regular UTF-8 text file of at most <paramref name="maxBytes"/> bytes.</summary>
    public static string ReadAllText(string path, long maxBytes) => new UTF8Encoding(false).GetString(ReadAllBytes(path, maxBytes)).TrimStart('\uFEFF');

    /// <summary>Streams the lines of a regular UTF-8 text file, refusing a line longer than
    /// <see cref="TextFileLimits.MaxLineLength"/> characters or a file over <see cref="TextFileLimits.MaxBytes"/> bytes.</summary>
    public static IEnumerable<string> ReadLines(string path, TextFileLimits? limits = null)
    {
        limits ??= TextFileLimits.Default;
        using var stream = OpenRead(path, limits.MaxBytes);
        using var reader = new StreamReader(new BoundedStream(stream, limits.MaxBytes, path), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var line = new StringBuilder();
        long number = 1;
        while (true)
        {
            int c = reader.Read();
            if (c < 0)
            {
                if (line.Length > 0) yield return line.ToString();
                yield break;
            }
            if (c == '\n')
            {
                if (line.Length > 0 && line[^1] == '\r') line.Length--;
                yield return line.ToString();
                line.Clear();
                number++;
                continue;
            }
            if (line.Length >= limits.MaxLineLength)
                throw new InputFileException(path, $"line {number} is longer than the limit of {limits.MaxLineLength:N0} characters");
            line.Append((char)c);
        }
    }

    /// <summary>Opens a regular file for reading after checking its type and declared size.</summary>
    public static FileStream OpenRead(string path, long maxBytes) => OpenRead(path, maxBytes, 1 << 16);

    private static FileStream OpenRead(string path, long maxBytes, int bufferSize)
    {
        RequireRegular(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        if (stream.Length > maxBytes)
        {
            long length = stream.Length;
            stream.Dispose();
            throw new InputFileException(path, $"{length:N0} bytes is over the limit of {maxBytes:N0} bytes");
        }
        return stream;
    }

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes into an array rented from
    /// <see cref="ArrayPool{T}.Shared"/> (the caller returns it); <paramref name="length"/> is the file's size. For
    /// readers of many files in a row: no per-file buffers, so no garbage per file.</summary>
    internal static byte[] ReadAllBytesLeased(string path, long maxBytes, out int length)
    {
        using var stream = OpenRead(path, maxBytes, bufferSize: 0);
        // One byte more than the size, so that a file that grew since is noticed without a second buffer.
        long limit = Math.Min(maxBytes, Array.MaxLength - 1L); // one array holds the file
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(stream.Length, limit) + 1);
        try
        {
            int total = 0, read;
            while ((read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
                if (total > limit) throw new InputFileException(path, $"more than the limit of {limit:N0} bytes");
                if (total == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * buffer.Length, limit + 1));
                    buffer.AsSpan(0, total).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
            length = total;
            return buffer;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Copies at most <paramref name="maxBytes"/> bytes; more is an <see cref="InputFileException"/>.</summary>
    public static void CopyBounded(Stream source, Stream target, long maxBytes, string name)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int read;
        while ((read = source.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
            if (total > maxBytes) throw new InputFileException(name, $"more than the limit of {maxBytes:N0} bytes");
            target.Write(buffer, 0, read);
        }
    }

    // Fails a read that goes past the limit (a file growing after its size was checked).
    private sealed class BoundedStream(Stream inner, long maxBytes, string name) : Stream
    {
        private long total;

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            total += read;
            if (total > maxBytes) throw new InputFileException(name, $"more than the limit of {maxBytes:N0} bytes");
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => total; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // The file type from the kernel. statx's buffer layout is the same on every Linux architecture (unlike struct stat),
    // so one declaration serves x86-64 and arm64. Elsewhere only directories are told apart (above).
    private static class FileKind
    {
        private const int AtFdCwd = -100, StatxType = 0x1, ModeOffset = 28;

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

        private static bool unavailable;

        public static string? NonRegular(string path)
        {
            if (!OperatingSystem.IsLinux() || unavailable) return null;
            var buffer = new byte[256];
            try
            {
                if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return null; // File.Exists said yes; let open report the error
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                unavailable = true;   // a C library without statx (glibc < 2.28)
                return null;
            }
            int mode = BitConverter.ToUInt16(buffer, ModeOffset) & 0xF000;
            return mode switch
            {
                0x8000 => null,
                0x1000 => "a FIFO",
                0x2000 => "a character device",
                0x6000 => "a block device",
                0xC000 => "a socket",
                0x4000 => "a directory",
                _ => $"file type 0x{mode:X4}",
            };
        }
    }
}
