namespace OpenVision.Checkpoints.Zip;

/// <summary>The CRC-32 of zip records (IEEE 802.3 polynomial, reflected), computed eight bytes at a time.</summary>
/// <remarks>Written here because the BCL keeps its own implementation internal and System.IO.Hashing would be a
/// package dependency for twenty lines.</remarks>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>CRC of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        int i = 0;
        // Slicing-by-8: the eight tables of 256 entries let one step consume eight input bytes.
        for (; i + 8 <= data.Length; i += 8)
        {
            uint one = crc ^ (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            crc = Table[7 * 256 + (one & 0xFF)] ^ Table[6 * 256 + ((one >> 8) & 0xFF)]
                ^ Table[5 * 256 + ((one >> 16) & 0xFF)] ^ Table[4 * 256 + (one >> 24)]
                ^ Table[3 * 256 + data[i + 4]] ^ Table[2 * 256 + data[i + 5]]
                ^ Table[1 * 256 + data[i + 6]] ^ Table[data[i + 7]];
        }
        for (; i < data.Length; i++) crc = Table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        for (int t = 1; t < 8; t++)
            for (int n = 0; n < 256; n++)
                table[t * 256 + n] = (table[(t - 1) * 256 + n] >> 8) ^ table[table[(t - 1) * 256 + n] & 0xFF];
        return table;
    }
}
