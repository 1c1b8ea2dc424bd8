using System.Buffers.Binary;
using System.Text;

namespace OpenVision.Checkpoints.Pickle;

/// <summary>Emits the protocol-2 pickle that torch.save writes for a dict of tensors; only what that needs.</summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _out = new();

    /// <summary>Starts the stream with PROTO 2.</summary>
    public PickleWriter() => Op(PickleOpcode.Proto).WriteByte(2);

    /// <summary>The pickle so far.</summary>
    public byte[] ToArray() => _out.ToArray();

    /// <summary>Writes an opcode and returns the stream for its argument bytes.</summary>
    public MemoryStream Op(PickleOpcode op)
    {
        _out.WriteByte((byte)op);
        return _out;
    }

    /// <summary>Pushes a str.</summary>
    public void String(string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        Op(PickleOpcode.BinUnicode).Write(length);
        _out.Write(bytes);
    }

    /// <summary>Pushes an int with the shortest opcode that holds it, as CPython's pickler chooses.</summary>
    public void Int(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (value is >= 0 and <= byte.MaxValue) Op(PickleOpcode.BinInt1).WriteByte((byte)value);
        else if (value is > byte.MaxValue and <= ushort.MaxValue)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
            Op(PickleOpcode.BinInt2).Write(bytes[..2]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
            Op(PickleOpcode.BinInt).Write(bytes[..4]);
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
            Op(PickleOpcode.Long1).WriteByte(8);
            _out.Write(bytes);
        }
    }

    /// <summary>Pushes a tuple of ints.</summary>
    public void IntTuple(long[] values)
    {
        if (values.Length == 0) { Op(PickleOpcode.EmptyTuple); return; }
        if (values.Length > 3) Op(PickleOpcode.Mark);
        foreach (long v in values) Int(v);
        Op(values.Length switch { 1 => PickleOpcode.Tuple1, 2 => PickleOpcode.Tuple2, 3 => PickleOpcode.Tuple3, _ => PickleOpcode.Tuple });
    }

    /// <summary>Pushes a global by module and name (GLOBAL, newline-terminated).</summary>
    public void Global(string module, string name) => Op(PickleOpcode.Global).Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
}
