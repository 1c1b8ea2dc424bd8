using OpenVision.Checkpoints.Pickle;
using OpenVision.Checkpoints.Zip;

namespace OpenVision.Checkpoints;

/// <summary>Writes a dict of tensors in the zip format of <c>torch.save</c>, so that <c>torch.load</c> (and
/// open_clip's loaders) read it as a plain state dict.</summary>
/// <remarks>The pickle is the one torch.save emits for <c>{name: tensor}</c> (protocol 2,
/// <c>torch._utils._rebuild_tensor_v2</c>, one storage per tensor); records are stored uncompressed and 64-byte
/// aligned as PyTorch's own writer does.</remarks>
public static class TorchCheckpointWriter
{
    // Pickle's SETITEMS batches, as CPython writes them.
    private const int BatchSize = 1000;

    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/> atomically (temporary file, then rename),
    /// in the dictionary's enumeration order.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, TensorData> tensors)
    {
        string full = Path.GetFullPath(path);
        string temp = full + $".tmp-{Environment.ProcessId}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                Write(stream, tensors);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes the archive to a stream; <paramref name="archiveName"/> is the top folder inside the zip.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, TensorData> tensors, string archiveName = "archive") =>
        Write(stream, tensors, archiveName, forceZip64: false);

    internal static void Write(Stream stream, IReadOnlyDictionary<string, TensorData> tensors, string archiveName, bool forceZip64)
    {
        if (archiveName.Length == 0 || archiveName.Contains('/'))
            throw new ArgumentException($"archive name '{archiveName}' must be one non-empty path segment", nameof(archiveName));
        var entries = tensors.ToList();
        var zip = new StoredZipWriter(stream, forceZip64);
        zip.Add($"{archiveName}/data.pkl", BuildPickle(entries));
        zip.Add($"{archiveName}/byteorder", "little"u8);
        for (int i = 0; i < entries.Count; i++) zip.Add($"{archiveName}/data/{i}", entries[i].Value.Bytes);
        zip.Add($"{archiveName}/version", "3\n"u8);
        zip.Finish();
    }

    private static byte[] BuildPickle(List<KeyValuePair<string, TensorData>> entries)
    {
        var p = new PickleWriter();
        p.Op(PickleOpcode.EmptyDict);
        for (int start = 0; start < entries.Count; start += BatchSize)
        {
            p.Op(PickleOpcode.Mark);
            for (int i = start; i < Math.Min(start + BatchSize, entries.Count); i++)
            {
                var (key, tensor) = entries[i];
                p.String(key);
                // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)
                p.Global("torch._utils", "_rebuild_tensor_v2");
                p.Op(PickleOpcode.Mark);
                p.Op(PickleOpcode.Mark); // persistent id: ('storage', storage_type, key, location, numel)
                p.String("storage");
                p.Global("torch", PickleAllowList.StorageTypeName(tensor.DType));
                p.String(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                p.String("cpu");
                p.Int(tensor.ElementCount);
                p.Op(PickleOpcode.Tuple);
                p.Op(PickleOpcode.BinPersId);
                p.Int(0);
                p.IntTuple(tensor.Shape);
                p.IntTuple(ContiguousStrides(tensor.Shape));
                p.Op(PickleOpcode.NewFalse);
                p.Global("collections", "OrderedDict");
                p.Op(PickleOpcode.EmptyTuple);
                p.Op(PickleOpcode.Reduce);
                p.Op(PickleOpcode.Tuple);
                p.Op(PickleOpcode.Reduce);
            }
            p.Op(PickleOpcode.SetItems);
        }
        p.Op(PickleOpcode.Stop);
        return p.ToArray();
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long step = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = step;
            step *= Math.Max(shape[d], 1);
        }
        return strides;
    }
}
