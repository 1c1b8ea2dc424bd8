using System.Text;

namespace OpenVision.Cli;

/// <summary>Makes names and texts from outside the program (file names, labels, captions, index keys, error messages)
/// safe to print in human-readable output: a control character in a file name would otherwise reach the terminal,
/// where ESC sequences clear the screen or recolour it, and CR/LF forge extra lines. C0 controls, DEL and C1 controls
/// are shown as <c>\xNN</c>. JSON output does not go through here; its serializer escapes them itself.</summary>
internal static class TerminalText
{
    /// <summary><paramref name="text"/> with every control character written as <c>\xNN</c>.</summary>
    public static string Escape(string text)
    {
        if (!text.Any(IsControl)) return text;
        var builder = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (IsControl(c)) builder.Append($"\\x{(int)c:x2}");
            else builder.Append(c);
        }
        return builder.ToString();
    }

    // C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F): char.IsControl is exactly these.
    private static bool IsControl(char c) => char.IsControl(c);
}
