using OpenVision.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace OpenVision.IO;

/// <summary>Collects named arrays batch by batch into temporary files, then writes one <c>.npy</c> (a single array)
/// or <c>.safetensors</c> (several) without ever holding the whole result in memory. The output appears
/// atomically at <see cref="Finish"/>; a crash leaves no partial output file.</summary>
public sealed class ArrayStreamWriter : IDisposable
{
    private readonly string outputPath;
    private readonly Dictionary<string, Part> parts = new(StringComparer.Ordinal);
    private readonly List<string> order = [];

    private sealed class Part(string path, TensorDType dtype, long[] rowShape)
    {
        public string Path { get; } = path;
        public TensorDType DType { get; } = dtype;
        public long[] RowShape { get; } = rowShape;
        public FileStream Stream { get; } = new(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        public long Rows { get; set; }
    }

    /// <summary>Prepares to write <paramref name="outputPath"/> (.npy or .safetensors).</summary>
    public ArrayStreamWriter(string outputPath)
    {
        Check(outputPath);
        this.outputPath = Path.GetFullPath(outputPath);
    }

    /// <summary>Throws when <paramref name="outputPath"/> could not be written (not .npy or .safetensors, a missing
    /// folder, a folder in its place), so a caller can refuse it before the work whose result it would hold.</summary>
    public static void Check(string outputPath)
    {
        ArgumentNullException.ThrowIfNull(outputPath);
        string extension = Path.GetExtension(outputPath).ToLowerInvariant();
        if (extension is not (".npy" or ".safetensors"))
            throw new ArgumentException($"{outputPath}: the output must end in .npy or .safetensors");
        if (AtomicFile.OutputProblem(outputPath) is { } problem) throw new IOException($"{outputPath}: {problem}");
    }

    /// <summary>Appends rows (the first dimension of <paramref name="batch"/>) to the array <paramref name="name"/>.</summary>
    public void Append(string name, Tensor batch)
    {
        using var cpu = batch.detach().cpu().contiguous();
        var data = TensorData.FromTorch(cpu);
        var rowShape = data.Shape[1..];
        if (!parts.TryGetValue(name, out var part))
        {
            if (order.Count == 1 && Path.GetExtension(outputPath).Equals(".npy", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{outputPath}: a .npy file holds one array; use .safetensors to save '{order[0]}' and '{name}' together");
            string path = outputPath + $".{order.Count}.part";
            part = WritingTo(path, () => new Part(path, data.DType, rowShape));
            parts[name] = part;
            order.Add(name);
        }
        if (!part.RowShape.SequenceEqual(rowShape) || part.DType != data.DType)
            throw new ArgumentException($"'{name}': rows of shape [{string.Join(", ", rowShape)}] {data.DType} do not match earlier rows [{string.Join(", ", part.RowShape)}] {part.DType}");
        WritingTo(part.Path, () => { part.Stream.Write(data.Bytes); return 0; });
        part.Rows += data.Shape[0];
    }

    // The OS names the temporary part in its error (a full disk, a read-only folder); the user asked for the output.
    private T WritingTo<T>(string partPath, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && AtomicFile.Names(e, partPath))
        {
            throw AtomicFile.WriteError(outputPath, e);
        }
    }

    /// <summary>Rows written so far to <paramref name="name"/>.</summary>
    public long Rows(string name) => parts.TryGetValue(name, out var p) ? p.Rows : 0;

    /// <summary>Writes the output file (atomically, streaming from the temporary files) and removes them.</summary>
    public void Finish(IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (order.Count == 0) throw new InvalidOperationException($"{outputPath}: nothing to write");
        AtomicFile.Write(outputPath, output =>
        {
            if (Path.GetExtension(outputPath).Equals(".npy", StringComparison.OrdinalIgnoreCase))
            {
                var part = parts[order[0]];
                NpyFile.WriteHeader(output, part.DType, [part.Rows, .. part.RowShape]);
                CopyPart(part, output);
            }
            else
            {
                // safetensors orders data by name; write the parts in that order.
                var names = order.Order(StringComparer.Ordinal).ToList();
                SafetensorsFile.WriteHeader(output, names.Select(n => (n, parts[n].DType, (long[])[parts[n].Rows, .. parts[n].RowShape])).ToList(), metadata);
                foreach (var name in names) CopyPart(parts[name], output);
            }
        });
    }

    private void CopyPart(Part part, Stream output)
    {
        WritingTo(part.Path, () => { part.Stream.Flush(); return 0; });
        part.Stream.Position = 0;
        part.Stream.CopyTo(output);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Every temporary part is closed and removed even when flushing one fails (a full disk), so none is left behind.
        foreach (var part in parts.Values)
        {
            try { part.Stream.Dispose(); }
            catch (IOException) { }
            try { File.Delete(part.Path); }
            catch (IOException) { }
        }
        parts.Clear();
    }
}
