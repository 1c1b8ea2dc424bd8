using System.CommandLine;
using System.Text.Json;
using OpenVision.Configs;

namespace OpenVision.Cli.Commands;

/// <summary><c>openvision models [--json]</c>: every built-in config with its size.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON with exact integer parameter counts" };
        var command = new Command("models", "List the built-in OpenVision configs") { json };
        command.SetAction(r => CliErrors.Run(() => Run(r.GetValue(json))));
        return command;
    }

    private static int Run(bool asJson)
    {
        var rows = ModelRegistry.Names.Select(name =>
        {
            var c = ModelRegistry.Get(name);
            return new
            {
                name,
                patch_size = c.VisionCfg.PatchSize,
                image_size = c.VisionCfg.ImageSize,
                embed_dim = c.EmbedDim,
                vision_params = ParameterCounter.Vision(c),
                text_params = ParameterCounter.Text(c),
                total_params = ParameterCounter.Total(c),
            };
        }).ToList();
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        Console.WriteLine($"{"model",-36} {"patch",5} {"res",5} {"embed",5} {"vision params",13} {"text params",13} {"total params",13}");
        foreach (var r in rows)
            Console.WriteLine($"{r.name,-36} {r.patch_size,5} {r.image_size,5} {r.embed_dim,5} {r.vision_params,13:N0} {r.text_params,13:N0} {r.total_params,13:N0}");
        return 0;
    }
}
