namespace OpenVision.Checkpoints.Zip;

/// <summary>A read-only window of <paramref name="length"/> bytes from <paramref name="start"/> of a seekable stream;
/// reads past its end return nothing, whatever the underlying stream holds.</summary>
internal sealed class BoundedReadStream(Stream inner, long start, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int count = (int)Math.Min(buffer.Length, length - _position);
        if (count <= 0) return 0;
        inner.Position = start + _position;
        int read = inner.Read(buffer[..count]);
        _position += read;
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
