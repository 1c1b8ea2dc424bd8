using System.Text;

namespace OpenVision.Training.Data;

/// <summary>Parses CSV/TSV text as RFC 4180 describes it: fields separated by one delimiter character, optionally
/// enclosed in double quotes, a doubled quote inside quotes standing for one quote, line breaks allowed inside quotes.</summary>
/// <remarks>Accepts LF and CRLF line ends and a UTF-8 BOM; blank lines are skipped. An unterminated quote is an error
/// naming the line where the field started.</remarks>
public static class DelimitedText
{
    /// <summary>Tab for .tsv and .tab files, comma otherwise.</summary>
    public static char DelimiterFor(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".tsv" or ".tab" ? '\t' : ',';

    /// <summary>The records of the file at <paramref name="path"/> (see <see cref="Parse"/>); errors name the file.</summary>
    public static IEnumerable<(int Line, string[] Fields)> ReadFile(string path, char? delimiter = null) =>
        Parse(File.ReadAllText(path), delimiter ?? DelimiterFor(path), path);

    /// <summary>The records of <paramref name="text"/> as arrays of fields, with their 1-based starting line.</summary>
    /// <exception cref="FormatException">A quoted field is not closed, or text follows a closing quote.</exception>
    public static IEnumerable<(int Line, string[] Fields)> Parse(string text, char delimiter, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1, i = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        bool inQuotes = false, quoted = false, recordHasContent = false;
        while (i <= text.Length)
        {
            char c = i < text.Length ? text[i] : '\n';
            bool atEnd = i == text.Length;
            i++;
            if (inQuotes && !atEnd)
            {
                if (c == '"')
                {
                    if (i < text.Length && text[i] == '"') { field.Append('"'); i++; }
                    else inQuotes = false;
                }
                else
                {
                    if (c == '\n') line++;
                    field.Append(c);
                }
                continue;
            }
            if (inQuotes) throw new FormatException($"{name}: line {recordLine}: a quoted field is not closed");
            if (c == '"' && field.Length == 0 && !quoted)
            {
                inQuotes = quoted = recordHasContent = true;
                continue;
            }
            if (c == delimiter)
            {
                fields.Add(field.ToString());
                (field.Length, quoted, recordHasContent) = (0, false, true);
                continue;
            }
            if (c == '\r' && i < text.Length && text[i] == '\n') continue; // CRLF: the LF ends the record
            if (c == '\n')
            {
                if (recordHasContent || field.Length > 0)
                {
                    fields.Add(field.ToString());
                    yield return (recordLine, fields.ToArray());
                }
                fields.Clear();
                (field.Length, quoted, recordHasContent) = (0, false, false);
                if (!atEnd) line++;
                recordLine = line;
                continue;
            }
            if (quoted) throw new FormatException($"{name}: line {line}: text after a closing quote");
            field.Append(c);
            recordHasContent = true;
        }
    }
}
