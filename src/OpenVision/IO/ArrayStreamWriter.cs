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
        string extension = Path.GetExtension(outputPath).ToLowerInvariant();
        if (extension is not (".npy" or ".safetensors"))
            throw new ArgumentException($"{outputPath}: the output must end in .npy or .safetensors");
        this.outputPath = Path.GetFullPath(outputPath);
        if (AtomicFile.MissingFolder(outputPath) is { } folder) throw new DirectoryNotFoundException($"{outputPath}: the folder {folder} does not exist");
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
            part = new Part(outputPath + $".{order.Count}.part", data.DType, rowShape);
            parts[name] = part;
            order.Add(name);
        }
        if (!part.RowShape.SequenceEqual(rowShape) || part.DType != data.DType)
            throw new ArgumentException($"'{name}': rows of shape [{string.Join(", ", rowShape)}] {data.DType} do not match earlier rows [{string.Join(", ", part.RowShape)}] {part.DType}");
        part.Stream.Write(data.Bytes);
        part.Rows += data.Shape[0];
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

    private static void CopyPart(Part part, Stream output)
    {
        part.Stream.Flush();
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
