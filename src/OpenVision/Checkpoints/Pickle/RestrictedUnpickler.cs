using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace OpenVision.Checkpoints.Pickle;

/// <summary>A pickle virtual machine that builds plain data and never executes anything.</summary>
/// <remarks>Values come out as: None → null, bool, long, double, string, byte[], tuple → object?[], list and set →
/// List&lt;object?&gt;, dict → OrderedDictionary&lt;object, object?&gt;, tensors → <see cref="TorchTensorRef"/>.
/// Globals go through <see cref="PickleAllowList"/>; every length is checked against the bytes that remain before
/// anything is allocated, so a hostile stream fails with a <see cref="CheckpointFormatException"/>, never with an
/// out-of-memory error or a side effect.</remarks>
internal sealed class RestrictedUnpickler
{
    private readonly string _file;
    private readonly Func<object?, object?>? _persistentLoad;
    private readonly UnpicklerLimits _limits;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private byte[] _data = [];
    private int _pos;

    /// <summary>Creates an unpickler; <paramref name="file"/> names the source in errors, and
    /// <paramref name="persistentLoad"/> resolves BINPERSID ids (torch storages); without it they are refused.</summary>
    public RestrictedUnpickler(string file, Func<object?, object?>? persistentLoad = null, UnpicklerLimits? limits = null)
    {
        _file = file;
        _persistentLoad = persistentLoad;
        _limits = limits ?? UnpicklerLimits.Default;
    }

    /// <summary>Runs the pickle in <paramref name="data"/> up to STOP and returns the value it built.</summary>
    public object? Load(byte[] data)
    {
        if (data.LongLength > _limits.MaxPickleBytes)
            throw Fail($"pickle is {data.LongLength} bytes, over the {_limits.MaxPickleBytes}-byte limit");
        _data = data;
        _pos = 0;
        _stack.Clear(); _marks.Clear(); _memo.Clear();
        while (true)
        {
            int at = _pos;
            var op = (PickleOpcode)ReadByte();
            if (op == PickleOpcode.Stop)
            {
                if (_stack.Count != 1 || _marks.Count != 0) throw Fail($"pickle STOP at offset {at} with {_stack.Count} values on the stack");
                return _stack[0];
            }
            Step(op, at);
            if (_stack.Count > _limits.MaxStackSize) throw Fail($"pickle stack grows past {_limits.MaxStackSize} values");
        }
    }

    private void Step(PickleOpcode op, int at)
    {
        switch (op)
        {
            case PickleOpcode.Proto:
                if (ReadByte() > 5) throw Fail($"pickle protocol {_data[_pos - 1]} is newer than 5");
                break;
            case PickleOpcode.Frame: Read(8); break; // framing is only a read-ahead hint
            case PickleOpcode.Mark:
                if (_marks.Count >= _limits.MaxMarkDepth) throw Fail($"pickle nests MARKs deeper than {_limits.MaxMarkDepth}");
                _marks.Push(_stack.Count);
                break;
            case PickleOpcode.Pop:
                if (_marks.Count > 0 && _marks.Peek() == _stack.Count) _marks.Pop(); // CPython: POP of an empty mark pops the mark
                else Pop();
                break;
            case PickleOpcode.PopMark: PopMark(); break;
            case PickleOpcode.Dup: Push(Peek()); break;
            case PickleOpcode.None: Push(null); break;
            case PickleOpcode.NewTrue: Push(true); break;
            case PickleOpcode.NewFalse: Push(false); break;
            case PickleOpcode.BinInt: Push((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;
            case PickleOpcode.BinInt1: Push((long)ReadByte()); break;
            case PickleOpcode.BinInt2: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;
            case PickleOpcode.Long1: Push(ReadLong(ReadByte(), at)); break;
            case PickleOpcode.Long4: Push(ReadLong(ReadLength(4), at)); break;
            case PickleOpcode.BinFloat: Push(BinaryPrimitives.ReadDoubleBigEndian(Read(8))); break;
            case PickleOpcode.ShortBinUnicode: Push(ReadString(ReadByte())); break;
            case PickleOpcode.BinUnicode: Push(ReadString(ReadLength(4))); break;
            case PickleOpcode.BinUnicode8: Push(ReadString(ReadLength(8))); break;
            case PickleOpcode.ShortBinBytes: Push(Read(ReadByte()).ToArray()); break;
            case PickleOpcode.BinBytes: Push(Read(ReadLength(4)).ToArray()); break;
            case PickleOpcode.BinBytes8:
            case PickleOpcode.ByteArray8: Push(Read(ReadLength(8)).ToArray()); break;
            case PickleOpcode.EmptyTuple: Push(Array.Empty<object?>()); break;
            case PickleOpcode.Tuple: Push(PopMark().ToArray()); break;
            case PickleOpcode.Tuple1: Push(PopN(1)); break;
            case PickleOpcode.Tuple2: Push(PopN(2)); break;
            case PickleOpcode.Tuple3: Push(PopN(3)); break;
            case PickleOpcode.EmptyList: Push(new List<object?>()); break;
            case PickleOpcode.List: Push(PopMark()); break;
            case PickleOpcode.EmptySet: Push(new List<object?>()); break;
            case PickleOpcode.FrozenSet: Push(PopMark()); break;
            case PickleOpcode.Append: { var item = Pop(); AsList(Peek(), op).Add(item); break; }
            case PickleOpcode.Appends:
            case PickleOpcode.AddItems: { var items = PopMark(); AsList(Peek(), op).AddRange(items); break; }
            case PickleOpcode.EmptyDict: Push(PickleAllowList.NewDict()); break;
            case PickleOpcode.Dict: { var dict = PickleAllowList.NewDict(); SetItems(dict, PopMark()); Push(dict); break; }
            case PickleOpcode.SetItem: { var value = Pop(); var key = Pop(); SetItems(AsDict(Peek(), op), [key, value]); break; }
            case PickleOpcode.SetItems: { var items = PopMark(); SetItems(AsDict(Peek(), op), items); break; }
            case PickleOpcode.BinPut: Memo(ReadByte()); break;
            case PickleOpcode.LongBinPut: Memo(BinaryPrimitives.ReadUInt32LittleEndian(Read(4))); break;
            case PickleOpcode.Memoize: Memo(_memo.Count); break;
            case PickleOpcode.BinGet: Push(Recall(ReadByte())); break;
            case PickleOpcode.LongBinGet: Push(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)))); break;
            case PickleOpcode.Global:
                {
                    string module = ReadLine(), name = ReadLine();
                    Push(PickleAllowList.Resolve(module, name, _file));
                    break;
                }
            case PickleOpcode.StackGlobal:
                {
                    if (Pop() is not string name || Pop() is not string module) throw Fail($"STACK_GLOBAL at offset {at} without two strings");
                    Push(PickleAllowList.Resolve(module, name, _file));
                    break;
                }
            case PickleOpcode.Reduce:
                {
                    var args = Pop() as object?[] ?? throw Fail($"REDUCE at offset {at} without an argument tuple");
                    var callable = Pop();
                    Push(PickleAllowList.Call(callable, args, _file));
                    break;
                }
            case PickleOpcode.NewObj:
                {
                    var args = Pop() as object?[] ?? throw Fail($"NEWOBJ at offset {at} without an argument tuple");
                    Push(PickleAllowList.New(Pop(), args, _file));
                    break;
                }
            case PickleOpcode.NewObjEx:
                {
                    if (Pop() is not OrderedDictionary<object, object?> { Count: 0 } || Pop() is not object?[] args)
                        throw Fail($"NEWOBJ_EX at offset {at} with keyword arguments");
                    Push(PickleAllowList.New(Pop(), args, _file));
                    break;
                }
            case PickleOpcode.Build: { var state = Pop(); PickleAllowList.Build(Peek(), state, _file); break; }
            case PickleOpcode.BinPersId:
                {
                    var id = Pop();
                    if (_persistentLoad is null) throw Fail("pickle references external data (persistent id) where none is allowed");
                    Push(_persistentLoad(id));
                    break;
                }
            default:
                throw Fail($"unsupported pickle opcode 0x{(byte)op:x2} at offset {at} (not something torch.save writes)");
        }
    }

    private CheckpointFormatException Fail(string problem) => new(_file, problem);

    private byte ReadByte() => _pos < _data.Length ? _data[_pos++] : throw Fail("pickle ends before STOP (truncated)");

    private ReadOnlySpan<byte> Read(long count)
    {
        if (count < 0 || count > _data.Length - _pos) throw Fail($"pickle needs {count} bytes at offset {_pos} but only {_data.Length - _pos} remain (truncated)");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    // Lengths are checked against the configured maximum here; Read then checks them against the remaining data.
    private long ReadLength(int width)
    {
        var bytes = Read(width);
        ulong n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)_limits.MaxStringBytes) throw Fail($"pickle declares a {n}-byte value, over the {_limits.MaxStringBytes}-byte limit");
        return (long)n;
    }

    private string ReadString(long count)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Read(count)); }
        catch (DecoderFallbackException) { throw Fail($"pickle string before offset {_pos} is not valid UTF-8"); }
    }

    // GLOBAL's module and name are newline-terminated ASCII identifiers; anything else is not from torch.save.
    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(_data.Length - _pos, 256));
        if (end < 0) throw Fail($"pickle GLOBAL at offset {_pos} has no name line");
        string text = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        if (text.Length == 0 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.'))
            throw Fail($"pickle GLOBAL names an invalid identifier '{text.ReplaceLineEndings(" ")}'");
        return text;
    }

    private long ReadLong(long count, int at)
    {
        if (count > 8) throw Fail($"pickle integer at offset {at} is {count} bytes, larger than 64 bits");
        var value = new BigInteger(Read(count), isUnsigned: false, isBigEndian: false); // two's complement, little-endian
        return (long)value;
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > (_marks.Count > 0 ? _marks.Peek() : 0)
        ? _stack[^1] : throw Fail($"pickle reads an empty stack at offset {_pos - 1}");

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopN(int n)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop();
        return items;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Fail($"pickle uses a MARK that was never set (offset {_pos - 1})");
        int start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private void Memo(long index)
    {
        if (_memo.Count >= _limits.MaxMemoEntries && !_memo.ContainsKey(index))
            throw Fail($"pickle memo grows past {_limits.MaxMemoEntries} entries");
        _memo[index] = Peek();
    }

    private object? Recall(long index) => _memo.TryGetValue(index, out var value) ? value
        : throw Fail($"pickle recalls memo entry {index}, which was never stored");

    private List<object?> AsList(object? target, PickleOpcode op) => target as List<object?>
        ?? throw Fail($"pickle {op} on {PickleAllowList.Describe(target)} instead of a list");

    private OrderedDictionary<object, object?> AsDict(object? target, PickleOpcode op) => target as OrderedDictionary<object, object?>
        ?? throw Fail($"pickle {op} on {PickleAllowList.Describe(target)} instead of a dict");

    private void SetItems(OrderedDictionary<object, object?> dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Fail("pickle SETITEMS with an odd number of values");
        for (int i = 0; i < items.Count; i += 2)
        {
            // Only hashable-by-value keys: str, int, bool, float. Tuples or None as keys never occur in state dicts.
            if (items[i] is not (string or long or bool or double))
                throw Fail($"pickle dict key of type {PickleAllowList.Describe(items[i])} is not supported");
            dict[items[i]!] = items[i + 1];
        }
    }
}
