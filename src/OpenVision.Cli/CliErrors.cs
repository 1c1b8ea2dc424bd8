using OpenVision.Checkpoints;
using OpenVision.Configs;

namespace OpenVision.Cli;

/// <summary>Runs a command body and turns failures into one clear line on stderr and an exit code
/// (1: the input or request is wrong; 2: a checkpoint is incompatible or corrupt), never a stack trace.</summary>
internal static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CheckpointFormatException e) { return Fail(e.Message, 2); }
        catch (ConfigException e) { return Fail(e.Message, 1); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException
                                       or UnauthorizedAccessException or NotSupportedException or FormatException
                                       or InvalidDataException or System.Text.Json.JsonException)
        {
            return Fail(e.Message, 1);
        }
        catch (OperationCanceledException) { return Fail("cancelled", 130); }
    }

    public static int Fail(string message, int code)
    {
        Console.Error.WriteLine($"openvision: error: {message}");
        return code;
    }
}
