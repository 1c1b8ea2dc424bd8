using System.Diagnostics;
using OpenVision.IO;
using OpenVision.Vision;

namespace OpenVision.Tests.IO;

/// <summary>Inputs are read only from regular files and within bounds: a FIFO is refused without opening it (opening one
/// blocks until a writer appears), <c>/dev/zero</c> is refused without reading it, and caps hold on size and lines.</summary>
public sealed class InputFileTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("ov-input-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Temp(string name) => Path.Combine(temp, name);

    [Fact]
    public async Task AFifoNamedLikeAnImageIsRefusedWithoutBlocking()
    {
        string fifo = Temp("x.png");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        Assert.True(File.Exists(fifo));
        // Decoding on another thread: if the check were missing, open() would block forever and the wait below fails.
        var decode = Task.Run(() => Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(fifo)));
        var error = await decode.WaitAsync(TimeSpan.FromSeconds(60));   // a TimeoutException here means open() blocked
        Assert.Equal($"{fifo}: not a regular file (a FIFO); only regular files are read", error.Message);
    }

    [Fact]
    public void CharacterDevicesAreRefused()
    {
        Assert.Contains("not a regular file (a character device)", Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("/dev/zero")).Message);
        Assert.Contains("a character device", Assert.Throws<InputFileException>(() => InputFile.ReadLines("/dev/zero").ToList()).Message);
    }

    [Fact]
    public void DirectoriesAndMissingFilesAreNamed()
    {
        Assert.Equal($"{temp}: is a directory, not a file", Assert.Throws<InputFileException>(() => InputFile.RequireRegular(temp)).Message);
        Assert.Equal($"{Temp("absent")}: no such file", Assert.Throws<InputFileException>(() => InputFile.RequireRegular(Temp("absent"))).Message);
    }

    [Fact]
    public void ASymbolicLinkToARegularFileIsRead()
    {
        File.WriteAllText(Temp("target.txt"), "a\nb\n");
        File.CreateSymbolicLink(Temp("link.txt"), Temp("target.txt"));
        Assert.Equal(["a", "b"], InputFile.ReadLines(Temp("link.txt")));
    }

    [Fact]
    public void ImageFileSizeIsCappedBeforeReading()
    {
        string png = ReferenceData.Path("preprocess", "images", "block.png");
        long size = new FileInfo(png).Length;
        var error = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, new ImageDecoderOptions { MaxFileBytes = size - 1 }));
        Assert.Contains($"over the limit of {size - 1:N0} bytes", error.Message);
        Assert.Equal(10, ImageDecoder.Decode(png, new ImageDecoderOptions { MaxFileBytes = size }).Width);   // control: at the limit it reads
        using var endless = new EndlessStream();
        Assert.Contains("more than the limit of 1,000 bytes",
            Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(endless, "stream", new ImageDecoderOptions { MaxFileBytes = 1000 })).Message);
    }

    [Fact]
    public void LinesAreSplitAsTextFilesAndCapped()
    {
        File.WriteAllText(Temp("t.txt"), "one\r\ntwo\n\nthree");
        Assert.Equal(["one", "two", "", "three"], InputFile.ReadLines(Temp("t.txt")));
        File.WriteAllText(Temp("long.txt"), "short\n" + new string('x', 101) + "\n");
        var limits = new TextFileLimits { MaxLineLength = 100 };
        Assert.Equal($"{Temp("long.txt")}: line 2 is longer than the limit of 100 characters",
            Assert.Throws<InputFileException>(() => InputFile.ReadLines(Temp("long.txt"), limits).ToList()).Message);
        Assert.Equal(2, InputFile.ReadLines(Temp("long.txt"), new TextFileLimits { MaxLineLength = 101 }).Count());
        Assert.Contains("over the limit of 10 bytes", Assert.Throws<InputFileException>(() => InputFile.ReadLines(Temp("long.txt"), new TextFileLimits { MaxBytes = 10 }).ToList()).Message);
    }

    // A stream that never ends, as /dev/zero would be if it were passed as a stream.
    private sealed class EndlessStream : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) { Array.Clear(buffer, offset, count); return count; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
