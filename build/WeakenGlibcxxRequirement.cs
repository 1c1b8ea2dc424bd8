// Inline MSBuild task: copies an ELF64 shared library and marks one GLIBCXX version requirement weak
// (Vernaux.vna_flags |= VER_FLG_WEAK) when the system libstdc++ does not define that version, or always with Force.
// A weak requirement that is missing only makes ld.so print a debug note; the library still loads.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenGlibcxxRequirement : Task
{
    [Required] public string Source { get; set; } = "";
    [Required] public string Destination { get; set; } = "";
    [Required] public string Version { get; set; } = "";
    public bool Force { get; set; }
    [Output] public bool Patched { get; set; }

    private static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    };

    public override bool Execute()
    {
        string system = Array.Find(LibStdCxxCandidates, File.Exists);
        if (!Force)
        {
            if (system == null) { Log.LogMessage(MessageImportance.Low, "libstdc++ not found; shim left alone"); return true; }
            if (ContainsAscii(File.ReadAllBytes(system), Version))
            {
                Log.LogMessage(MessageImportance.Low, $"{system} defines {Version}; shim left alone");
                return true;
            }
        }
        byte[] elf = File.ReadAllBytes(Source);
        int changed = MarkWeak(elf, Version);
        if (changed < 0) { Log.LogError($"{Source}: not a little-endian ELF64 file with .gnu.version_r"); return false; }
        if (changed == 0) { Log.LogMessage(MessageImportance.Low, $"{Source} does not require {Version}"); return true; }
        Directory.CreateDirectory(Path.GetDirectoryName(Destination));
        string temp = Destination + ".tmp";
        File.WriteAllBytes(temp, elf);
        if (File.Exists(Destination)) File.Delete(Destination);
        File.Move(temp, Destination);
        string why = Force ? "OpenVisionWeakenGlibcxx=always" : system + " lacks it";
        Log.LogMessage(MessageImportance.Normal, $"Marked {Version} weak in a copy of {Path.GetFileName(Source)} ({why})");
        Patched = true;
        return true;
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        byte[] n = Encoding.ASCII.GetBytes(needle + "\0");
        for (int i = 0; i + n.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < n.Length && haystack[i + j] == n[j]) j++;
            if (j == n.Length) return true;
        }
        return false;
    }

    /// <summary>Returns the number of entries changed, or -1 if the file is not a usable ELF64 LE image.</summary>
    private static int MarkWeak(byte[] f, string version)
    {
        if (f.Length < 64 || f[0] != 0x7f || f[1] != (byte)'E' || f[2] != (byte)'L' || f[3] != (byte)'F' || f[4] != 2 || f[5] != 1)
            return -1;
        long shoff = BitConverter.ToInt64(f, 0x28);
        int shentsize = BitConverter.ToUInt16(f, 0x3A), shnum = BitConverter.ToUInt16(f, 0x3C);
        const uint ShtGnuVerneed = 0x6ffffffe;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(f, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(f, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(f, (int)sh + 0x28);
            long strtab = BitConverter.ToInt64(f, (int)(shoff + (long)link * shentsize) + 0x18);
            int changed = 0;
            long vn = offset;
            while (true)
            {
                int count = BitConverter.ToUInt16(f, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(f, (int)vn + 8);
                for (int a = 0; a < count; a++)
                {
                    long name = strtab + BitConverter.ToUInt32(f, (int)aux + 8);
                    int end = Array.IndexOf(f, (byte)0, (int)name);
                    if (Encoding.ASCII.GetString(f, (int)name, end - (int)name) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(f, (int)aux + 4);
                        BitConverter.GetBytes((ushort)(flags | 0x2)).CopyTo(f, (int)aux + 4);
                        changed++;
                    }
                    uint nextAux = BitConverter.ToUInt32(f, (int)aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BitConverter.ToUInt32(f, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
            return changed;
        }
        return -1;
    }
}
