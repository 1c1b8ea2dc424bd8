using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using OpenVision.Checkpoints;
using OpenVision.Checkpoints.Zip;
using OpenVision.Tests.Fixtures;
using Xunit.Abstractions;

namespace OpenVision.Tests.Checkpoints;

/// <summary>A seeded, bounded fuzzing set: valid checkpoints of the tiny model (safetensors, PyTorch's .bin, and a
/// deflated .bin) mutated a few hundred ways and loaded with the model loader. Each must load with identical features
/// or fail with <see cref="CheckpointFormatException"/> naming the file in one line; nothing else, never a hang.</summary>
/// <remarks>Two categories change bytes that no check of the format covers: safetensors has no checksum over its data,
/// and a pickle whose zip CRC is recomputed is a valid file describing other tensors. There a mutation may load as
/// different weights; the test records how often and only requires the library's own exception otherwise. Such a
/// weight is finite (NaN or infinite weights are refused) but may be huge (an exponent bit flipped turns 0.3 into 1e38),
/// which overflows the forward pass: the "non-finite" column counts those outputs.</remarks>
public sealed class CheckpointFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(1);
    private readonly TempFolder folder = TinyCheckpoints.NewModelFolder();

    public void Dispose() => folder.Dispose();

    private sealed class Tally
    {
        public int Mutated, Rejected, Identical, Different, NonFiniteOutput;
    }

    private enum Outcome { Rejected, Identical, Different }

    [Fact]
    public async Task MutatedCheckpointsLoadIdenticallyOrFailWithOneLine()
    {
        var plain = TinyCheckpoints.PlainTensors();
        var safetensors = new MemoryStream();
        SafetensorsFile.Write(safetensors, plain);
        byte[] st = safetensors.ToArray(), bin = File.ReadAllBytes(TinyCheckpoints.Fixture("plain.pt")), deflated = Deflate(bin);
        float[] expected = TinyCheckpoints.LoadFeatures(TinyCheckpoints.Fixture("plain.pt"));
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(st);

        var categories = new (string Name, bool Strict, string Extension, int Count, Func<Random, byte[]> Mutate)[]
        {
            ("safetensors header bit flip", true, "safetensors", 60, r => FlipBits(st, r, 8, 8 + (int)headerLength)),
            ("safetensors length field edit", true, "safetensors", 30, r => EditLength(st, r)),
            ("safetensors offset edit", true, "safetensors", 40, r => EditOffset(st, r)),
            ("safetensors truncation", true, "safetensors", 30, r => st[..r.Next(st.Length)]),
            (".bin bit flip", true, "pt", 80, r => FlipBits(bin, r, 0, bin.Length)),
            (".bin truncation", true, "pt", 30, r => bin[..r.Next(bin.Length)]),
            (".bin zip size/CRC/offset edit", true, "pt", 50, r => EditZipField(bin, r)),
            ("deflated .bin bit flip", true, "pt", 40, r => FlipBits(deflated, r, 0, deflated.Length)),
            ("random garbage", true, "bin", 30, Garbage),
            ("safetensors data bit flip (no checksum)", false, "safetensors", 30, r => FlipBits(st, r, 8 + (int)headerLength, st.Length)),
            (".bin pickle flip, CRC recomputed", false, "pt", 40, r => FlipPickle(bin, r)),
        };

        var failures = new List<string>();
        var table = new StringBuilder($"{"category",-42} {"mutated",7} {"rejected",8} {"identical",9} {"different",9} {"non-finite",10}\n");
        int seed = 20261202;
        foreach (var (name, strict, extension, count, mutate) in categories)
        {
            var random = new Random(seed++);
            var tally = new Tally();
            for (int i = 0; i < count; i++)
            {
                string path = folder.Path($"case{i}.{extension}");
                File.WriteAllBytes(path, mutate(random));
                tally.Mutated++;
                (Outcome, float[]?, string?) result;
                try { result = await Task.Run(() => Load(path, expected)).WaitAsync(HangLimit); }
                catch (TimeoutException) { failures.Add($"{name} #{i}: no answer within {HangLimit}"); continue; }
                var (outcome, features, error) = result;
                if (error is not null) { failures.Add($"{name} #{i}: {error}"); continue; }
                switch (outcome)
                {
                    case Outcome.Rejected: tally.Rejected++; break;
                    case Outcome.Identical: tally.Identical++; break;
                    default:
                        tally.Different++;
                        if (features!.Any(v => !float.IsFinite(v))) tally.NonFiniteOutput++;
                        if (strict) failures.Add($"{name} #{i}: loaded with different features");
                        break;
                }
            }
            table.AppendLine($"{name,-42} {tally.Mutated,7} {tally.Rejected,8} {tally.Identical,9} {tally.Different,9} {tally.NonFiniteOutput,10}");
            // Negative control: mutations that never reach the reader would pass everything above.
            if (tally.Identical == tally.Mutated) failures.Add($"{name}: no mutation had any effect");
        }
        output.WriteLine(table.ToString());
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    private static (Outcome, float[]?, string?) Load(string path, float[] expected)
    {
        try
        {
            var features = TinyCheckpoints.LoadFeatures(path);
            return (features.SequenceEqual(expected) ? Outcome.Identical : Outcome.Different, features, null);
        }
        catch (CheckpointFormatException e)
        {
            if (e.Path != path || !e.Message.StartsWith(path + ": ", StringComparison.Ordinal) || e.Message.Contains('\n'))
                return (Outcome.Rejected, null, $"message does not name the file in one line: {e.Message}");
            return (Outcome.Rejected, null, null);
        }
        catch (Exception e)
        {
            return (Outcome.Rejected, null, $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} at {e.StackTrace?.Split('\n').FirstOrDefault()?.Trim()}");
        }
    }

    // One to three bit flips between from and to.
    private static byte[] FlipBits(byte[] original, Random random, int from, int to)
    {
        var bytes = (byte[])original.Clone();
        for (int n = random.Next(1, 4); n > 0; n--) bytes[random.Next(from, to)] ^= (byte)(1 << random.Next(8));
        return bytes;
    }

    private static byte[] EditLength(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong edited = random.Next(4) switch
        {
            0 => length + (ulong)random.Next(1, 10),
            1 => length - (ulong)random.Next(1, 10),
            2 => (ulong)random.NextInt64(0, original.Length * 2L),
            _ => (ulong)random.NextInt64() << random.Next(2),
        };
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, edited == length ? length + 8 : edited);
        return bytes;
    }

    // Changes one data offset, then rewrites the header so that everything else about the file stays valid.
    private static byte[] EditOffset(byte[] original, Random random)
    {
        int headerLength = (int)BinaryPrimitives.ReadInt64LittleEndian(original);
        var header = JsonNode.Parse(original.AsSpan(8, headerLength))!.AsObject();
        var keys = header.Where(p => p.Key != "__metadata__").Select(p => p.Key).ToList();
        var offsets = header[keys[random.Next(keys.Count)]]!["data_offsets"]!.AsArray();
        int which = random.Next(2);
        long old = offsets[which]!.GetValue<long>(), value = random.Next(3) switch
        {
            0 => old + random.Next(1, 65),
            1 => Math.Max(0, old - random.Next(1, 65)),
            _ => random.NextInt64(0, original.Length * 2L),
        };
        offsets[which] = value == old ? old + 4 : value;
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padding = (8 - json.Length % 8) % 8;
        var data = original.AsSpan(8 + headerLength);
        var bytes = new byte[8 + json.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(json.Length + padding));
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length, padding).Fill((byte)' ');
        data.CopyTo(bytes.AsSpan(8 + json.Length + padding));
        return bytes;
    }

    // Sizes, CRCs and offsets of a random record, in the central directory, the local header or the end record.
    private static byte[] EditZipField(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        var records = ZipRecord.Read(bytes);
        var record = records[random.Next(records.Count)];
        int delta = random.Next(2) == 0 ? random.Next(1, 65) : -random.Next(1, 65);
        void Add32(int at) => BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)) + delta);
        void Add16(int at) => BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at)) + delta));
        switch (random.Next(8))
        {
            case 0: bytes[record.DirectoryCrcField + random.Next(4)] ^= (byte)random.Next(1, 256); break;
            case 1: Add32(record.DirectoryCompressedSizeField); break;
            case 2: Add32(record.DirectorySizeField); break;
            case 3: Add32(record.DirectoryOffset + 42); break;                 // local header offset
            case 4: bytes[record.LocalOffset + 14 + random.Next(4)] ^= (byte)random.Next(1, 256); break; // local CRC
            case 5: Add32(record.LocalOffset + 18 + 4 * random.Next(2)); break; // local sizes
            case 6: Add16(record.LocalOffset + 26 + 2 * random.Next(2)); break; // local name or extra length
            default: Add16(bytes.Length - 22 + 8 + 2 * random.Next(2)); break;  // end record's record counts
        }
        return bytes;
    }

    // A bit flip inside data.pkl with the directory's CRC updated, so that only the unpickler stands in the way.
    private static byte[] FlipPickle(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        var pickle = ZipRecord.Read(bytes).First(r => r.Name.EndsWith("/data.pkl", StringComparison.Ordinal));
        bytes[pickle.DataOffset + random.Next(pickle.Size)] ^= (byte)(1 << random.Next(8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(pickle.DirectoryCrcField), Crc32.Compute(bytes.AsSpan(pickle.DataOffset, pickle.Size)));
        return bytes;
    }

    private static byte[] Garbage(Random random)
    {
        var bytes = new byte[random.Next(0, 4096)];
        random.NextBytes(bytes);
        byte[] magic = random.Next(4) switch
        {
            0 => "PK\x03\x04"u8.ToArray(),
            1 => [.. BitConverter.GetBytes((long)random.Next(0, bytes.Length + 1)), (byte)'{'],
            2 => [0x80, 0x02],
            _ => [],
        };
        magic.AsSpan(0, Math.Min(magic.Length, bytes.Length)).CopyTo(bytes);
        return bytes;
    }

    // The same archive with every record deflated, as a zip tool would rewrite it.
    private static byte[] Deflate(byte[] stored)
    {
        var result = new MemoryStream();
        using (var source = new ZipArchive(new MemoryStream(stored), ZipArchiveMode.Read))
        using (var target = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                using var input = entry.Open();
                using var outputStream = target.CreateEntry(entry.FullName, CompressionLevel.Optimal).Open();
                input.CopyTo(outputStream);
            }
        return result.ToArray();
    }
}
