using System.Text;
using OpenVision.Checkpoints.Pickle;
using OpenVision.Checkpoints.Zip;

namespace OpenVision.Checkpoints;

/// <summary>Reads checkpoints written by <c>torch.save</c> (the zip format of PyTorch 1.6 and later) without
/// executing their pickle: a restricted unpickler rebuilds the object tree and tensors are copied out of the
/// <c>data/</c> records.</summary>
/// <remarks>Layout: <c>{prefix}/data.pkl</c> (the pickled object), <c>{prefix}/data/{key}</c> (one raw storage per
/// key), optional <c>{prefix}/byteorder</c> and <c>{prefix}/version</c>. Training checkpoints that wrap the weights
/// (<c>{"state_dict": ...}</c> or <c>{"model": ...}</c>) are unwrapped; key prefixes are left to
/// <see cref="CheckpointAdapter"/>.</remarks>
public static class TorchCheckpointReader
{
    // How far containers such as {"state_dict": {"model": ...}} are followed.
    private const int MaxUnwrapDepth = 4;
    private static readonly string[] Containers = ["state_dict", "model", "module", "state_dict_ema"];

    /// <summary>Reads the state dict of the checkpoint at <paramref name="path"/>.</summary>
    public static Dictionary<string, TensorData> Read(string path)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CheckpointFormatException(path, e.Message, e); }
        using (stream) return Read(stream, path);
    }

    /// <summary>Reads the state dict from a seekable stream; <paramref name="name"/> is used in error messages.</summary>
    public static Dictionary<string, TensorData> Read(Stream stream, string name)
    {
        try { return ReadArchive(new StrictZipReader(stream, name), name); }
        catch (EndOfStreamException e) { throw new CheckpointFormatException(name, "the file ended while it was being read (truncated or changed meanwhile)", e); }
    }

    private static Dictionary<string, TensorData> ReadArchive(StrictZipReader zip, string name)
    {
        string prefix = FindPrefix(zip, name);
        CheckByteOrder(zip, prefix, name);

        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        object? LoadPersistent(object? id)
        {
            // torch.save: ('storage', storage_type, key, location, numel).
            if (id is not object[] { Length: 5 } t || t[0] is not "storage" || t[1] is not TorchStorageType type
                || t[2] is not string key || t[3] is not string location || t[4] is not long count || count < 0)
                throw new CheckpointFormatException(name, $"unexpected persistent id {PickleAllowList.Describe(id)} (not a torch storage)");
            var storage = new TorchStorageRef(key, type.DType, count, location);
            if (storages.TryGetValue(key, out var seen) && seen != storage)
                throw new CheckpointFormatException(name, $"storage '{key}' is referenced as both {seen.DType}[{seen.ElementCount}] and {storage.DType}[{count}]");
            storages[key] = storage;
            return storage;
        }

        byte[] pickle = ReadEntry(zip, $"{prefix}/data.pkl", UnpicklerLimits.Default.MaxPickleBytes, name);
        object? root = new RestrictedUnpickler(name, LoadPersistent).Load(pickle);
        var stateDict = FindStateDict(root, name, MaxUnwrapDepth);
        return Materialize(zip, prefix, stateDict, name);
    }

    private static string FindPrefix(StrictZipReader zip, string name)
    {
        // TorchScript archives also hold a data.pkl, but it pickles compiled modules, not a state dict.
        if (zip.Records.Keys.Any(n => n.EndsWith("/constants.pkl", StringComparison.Ordinal) || n.Contains("/code/", StringComparison.Ordinal)))
            throw new CheckpointFormatException(name, "a TorchScript archive (torch.jit.save), not a torch.save state dict; save model.state_dict() instead");
        var pickles = zip.Records.Keys
            .Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length)
            .ToList();
        if (pickles.Count == 1) return pickles[0][..^"/data.pkl".Length];
        throw new CheckpointFormatException(name, pickles.Count == 0
            ? "zip archive without a <prefix>/data.pkl record: not a torch.save checkpoint"
            : $"zip holds {pickles.Count} data.pkl records; a torch.save archive has one");
    }

    private static void CheckByteOrder(StrictZipReader zip, string prefix, string name)
    {
        // Older PyTorch writes no byteorder record; every platform it ran on was little-endian.
        if (!zip.Records.ContainsKey($"{prefix}/byteorder")) return;
        string order = Encoding.ASCII.GetString(ReadEntry(zip, $"{prefix}/byteorder", 16, name)).Trim();
        if (order == "little") return;
        throw new CheckpointFormatException(name, order == "big"
            ? "big-endian checkpoint (byteorder 'big') is not supported; load and re-save it on a little-endian machine"
            : $"unknown byteorder record '{order}'");
    }

    private static byte[] ReadEntry(StrictZipReader zip, string entryName, long maxBytes, string name) =>
        zip.Read(zip.Records.TryGetValue(entryName, out var record) ? record
            : throw new CheckpointFormatException(name, $"zip record '{entryName}' is missing"), maxBytes);

    // A state dict is a dict whose values are tensors. Training checkpoints nest it one or two levels down.
    private static List<(string Key, TorchTensorRef Tensor)> FindStateDict(object? node, string name, int depth)
    {
        if (node is not OrderedDictionary<object, object?> dict)
            throw new CheckpointFormatException(name, $"checkpoint holds a {PickleAllowList.Describe(node)}, not a dict of tensors");
        if (depth > 0)
            foreach (string container in Containers)
                if (dict.TryGetValue(container, out var inner) && inner is OrderedDictionary<object, object?>)
                    return FindStateDict(inner, name, depth - 1);

        // Non-tensor entries (an "epoch" counter, a "_metadata" dict) are not weights and are skipped.
        var tensors = new List<(string, TorchTensorRef)>();
        foreach (var (key, value) in dict)
            if (value is TorchTensorRef tensor)
                tensors.Add((key as string ?? throw new CheckpointFormatException(name, $"tensor under a {PickleAllowList.Describe(key)} key"), tensor));
        if (tensors.Count == 0 && dict.Count > 0)
        {
            string keys = string.Join(", ", dict.Keys.Take(8).Select(k => $"'{k}'"));
            throw new CheckpointFormatException(name, $"no tensors found; top-level keys are [{keys}{(dict.Count > 8 ? ", ..." : "")}]");
        }
        return tensors;
    }

    // Views may overlap (tied weights, a tensor and its transpose) or broadcast (stride 0), so the output can exceed the
    // stored bytes; a hostile file could use that to ask for terabytes from a few bytes. Allow a generous factor only.
    private static void CheckAmplification(List<(string Key, TorchTensorRef Tensor)> tensors, string name)
    {
        const long Slack = 256L << 20;
        double stored = tensors.Select(t => t.Tensor.Storage).Distinct().Sum(s => (double)s.ElementCount * s.DType.ElementSize());
        double viewed = tensors.Sum(t => t.Tensor.Size.Aggregate(1.0, (n, d) => n * d) * t.Tensor.Storage.DType.ElementSize());
        if (viewed > 4 * stored + Slack)
            throw new CheckpointFormatException(name, $"tensors would expand {stored:0} stored bytes into {viewed:0} (overlapping or broadcast views); refused as a memory bomb");
    }

    private static Dictionary<string, TensorData> Materialize(StrictZipReader zip, string prefix, List<(string Key, TorchTensorRef Tensor)> tensors, string name)
    {
        CheckAmplification(tensors, name);
        // Storages shared by several tensors (views, tied weights) are read once and kept until their last user.
        var users = tensors.GroupBy(t => t.Tensor.Storage.Key).ToDictionary(g => g.Key, g => g.Count());
        var loaded = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var result = new Dictionary<string, TensorData>(StringComparer.Ordinal);
        foreach (var (key, tensor) in tensors)
        {
            var storage = tensor.Storage;
            int elementSize = storage.DType.ElementSize();
            if (!loaded.TryGetValue(storage.Key, out var bytes))
            {
                long needed = storage.ElementCount > Array.MaxLength / elementSize ? long.MaxValue : storage.ElementCount * elementSize;
                if (needed > Array.MaxLength)
                    throw new CheckpointFormatException(name, $"storage '{storage.Key}' of {storage.ElementCount} {storage.DType} elements exceeds the 2 GB a tensor can hold here");
                bytes = ReadEntry(zip, $"{prefix}/data/{storage.Key}", needed, name);
                if (bytes.LongLength != needed)
                    throw new CheckpointFormatException(name, $"storage '{storage.Key}' has {bytes.LongLength} bytes but {storage.ElementCount} {storage.DType} elements need {needed}");
                loaded[storage.Key] = bytes;
            }
            bool lastUser = --users[storage.Key] == 0;
            if (lastUser) loaded.Remove(storage.Key);

            long count = StridedCopy.ElementCount(tensor.Size, name, key);
            // The common case, one tensor per storage covering all of it: hand over the array without copying.
            bool whole = lastUser && tensor.StorageOffset == 0 && count == storage.ElementCount && StridedCopy.IsContiguous(tensor.Size, tensor.Stride);
            var data = whole ? bytes : StridedCopy.Materialize(bytes, storage.ElementCount, elementSize, tensor.StorageOffset, tensor.Size, tensor.Stride, name, key);
            result[key] = new TensorData(storage.DType, tensor.Size, data);
        }
        return result;
    }
}
