using System.Text;

namespace OpenVision.Checkpoints.Pickle;

/// <summary>The only globals a checkpoint pickle may name, and what "calling" each one means here.</summary>
/// <remarks>Nothing is ever looked up by name or executed: each allowed global maps to a fixed C# function that
/// builds plain data (a dictionary, a tuple, a tensor description). The list is what torch.save emits for state
/// dicts, optimizer states and training checkpoints, and is a subset of torch's own weights_only allow-list.
/// Everything else (os.system, builtins.eval, torch.storage._load_from_bytes, numpy objects, ...) is refused.</remarks>
internal static class PickleAllowList
{
    private static readonly HashSet<string> Callables = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.Size",
        // Protocol 2 pickles bytes objects as _codecs.encode(text, "latin1").
        "_codecs.encode",
        "builtins.set", "builtins.frozenset",
        "__builtin__.set", "__builtin__.frozenset",
    };

    // torch.save names a storage by its legacy typed-storage class; the class only tells us the dtype.
    private static readonly Dictionary<string, TensorDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["HalfStorage"] = TensorDType.F16,
        ["BFloat16Storage"] = TensorDType.BF16,
        ["FloatStorage"] = TensorDType.F32,
        ["DoubleStorage"] = TensorDType.F64,
        ["CharStorage"] = TensorDType.I8,
        ["ShortStorage"] = TensorDType.I16,
        ["IntStorage"] = TensorDType.I32,
        ["LongStorage"] = TensorDType.I64,
        ["ByteStorage"] = TensorDType.U8,
        ["BoolStorage"] = TensorDType.Bool,
    };

    /// <summary>Every global name accepted, for documentation and error messages.</summary>
    public static IEnumerable<string> Names => Callables.Concat(StorageTypes.Keys.Select(k => "torch." + k)).Order(StringComparer.Ordinal);

    /// <summary>The torch storage class name for a dtype (the inverse of what <see cref="Resolve"/> accepts).</summary>
    public static string StorageTypeName(TensorDType dtype) => StorageTypes.First(p => p.Value == dtype).Key;

    /// <summary>Resolves GLOBAL/STACK_GLOBAL to a callable marker or storage type, or refuses naming the import.</summary>
    public static object Resolve(string module, string name, string file)
    {
        string full = $"{module}.{name}";
        if (module == "torch" && StorageTypes.TryGetValue(name, out var dtype)) return new TorchStorageType(name, dtype);
        if (Callables.Contains(full)) return new PickleGlobal(module, name);
        throw new CheckpointFormatException(file, $"pickle refuses to import {full} (only tensor-rebuilding globals are allowed; the file may be hostile)");
    }

    /// <summary>Applies REDUCE: "calls" an allowed global with positional arguments.</summary>
    public static object? Call(object? callable, object?[] args, string file)
    {
        if (callable is not PickleGlobal g)
            throw new CheckpointFormatException(file, $"pickle REDUCE on {Describe(callable)}, which is not an allowed callable");
        switch (g.FullName)
        {
            case "collections.OrderedDict":
                if (args.Length == 0) return NewDict();
                break;
            case "torch._utils._rebuild_tensor":
                if (args.Length == 4) return RebuildTensor(args, file);
                break;
            case "torch._utils._rebuild_tensor_v2":
                // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata]); autograd state is dropped.
                if (args.Length is 6 or 7) return RebuildTensor(args, file);
                break;
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                // A Parameter is its data tensor; requires_grad, hooks and Python state are training-time details.
                if (args.Length is 3 or 4 && args[0] is TorchTensorRef data) return data;
                break;
            case "torch.Size":
                if (args.Length == 1 && args[0] is object?[] dims) return (object?[])dims.Clone();
                break;
            case "_codecs.encode":
                if (args.Length == 2 && args[0] is string text && args[1] is "latin1" or "latin-1")
                    return Encoding.Latin1.GetBytes(text);
                break;
            default:
                // builtins.set / frozenset: sets become lists, since nothing in a state dict is looked up in one.
                if (args.Length == 0) return new List<object?>();
                if (args.Length == 1 && args[0] is List<object?> items) return new List<object?>(items);
                break;
        }
        throw new CheckpointFormatException(file, $"pickle calls {g.FullName} with unexpected arguments ({string.Join(", ", args.Select(Describe))})");
    }

    /// <summary>Applies NEWOBJ: only dictionaries and sets may be instantiated this way.</summary>
    public static object? New(object? cls, object?[] args, string file) => cls switch
    {
        PickleGlobal { FullName: "collections.OrderedDict" } when args.Length == 0 => NewDict(),
        PickleGlobal { Name: "set" or "frozenset" } g => Call(g, args, file),
        _ => throw new CheckpointFormatException(file, $"pickle NEWOBJ on {Describe(cls)}, which may not be instantiated"),
    };

    /// <summary>Applies BUILD: only a dictionary may receive state (an OrderedDict's <c>_metadata</c> attribute).</summary>
    public static void Build(object? target, object? state, string file)
    {
        // state_dict() returns an OrderedDict whose _metadata attribute (module versions) pickles as BUILD.
        // Attributes are not items, so dropping them changes nothing we read.
        if (target is OrderedDictionary<object, object?> && state is null or OrderedDictionary<object, object?> or object?[])
            return;
        throw new CheckpointFormatException(file, $"pickle BUILD on {Describe(target)} with {Describe(state)} is not allowed");
    }

    /// <summary>A new pickle dictionary (insertion-ordered, like Python's dict).</summary>
    public static OrderedDictionary<object, object?> NewDict() => new();

    /// <summary>A short type description for error messages; never prints content, which may be huge or hostile.</summary>
    public static string Describe(object? value) => value switch
    {
        null => "None",
        PickleGlobal g => g.FullName,
        TorchStorageType s => "torch." + s.Name,
        string => "str",
        byte[] => "bytes",
        long => "int",
        double => "float",
        bool => "bool",
        object?[] t => $"tuple[{t.Length}]",
        List<object?> => "list",
        OrderedDictionary<object, object?> => "dict",
        TorchTensorRef => "tensor",
        TorchStorageRef => "storage",
        _ => value.GetType().Name,
    };

    private static TorchTensorRef RebuildTensor(object?[] args, string file)
    {
        if (args[0] is not TorchStorageRef storage)
            throw new CheckpointFormatException(file, $"tensor rebuilt from {Describe(args[0])} instead of a storage");
        if (args[1] is not long offset || offset < 0)
            throw new CheckpointFormatException(file, $"tensor has an invalid storage offset ({Describe(args[1])})");
        long[] size = ReadDims(args[2], "size", file), stride = ReadDims(args[3], "stride", file);
        if (size.Length != stride.Length)
            throw new CheckpointFormatException(file, $"tensor has {size.Length} sizes but {stride.Length} strides");
        return new TorchTensorRef(storage, offset, size, stride);
    }

    private static long[] ReadDims(object? value, string what, string file)
    {
        if (value is not object?[] tuple || tuple.Length > 64)
            throw new CheckpointFormatException(file, $"tensor {what} is {Describe(value)}, not a tuple of at most 64 integers");
        var dims = new long[tuple.Length];
        for (int i = 0; i < dims.Length; i++)
            dims[i] = tuple[i] is long d && d >= 0 ? d
                : throw new CheckpointFormatException(file, $"tensor {what} has an invalid entry ({Describe(tuple[i])})");
        return dims;
    }
}
