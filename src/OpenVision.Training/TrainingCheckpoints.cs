using OpenVision.Checkpoints;
using OpenVision.IO;
using OpenVision.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OpenVision.Training;

/// <summary>Resumable checkpoints under <c>{output}/checkpoints/</c>: each is a folder with the training state dict
/// (open_clip keys + decoder), the optimizer state and <c>state.json</c>. A folder is written under a temporary name
/// and renamed, and <c>latest</c> is replaced atomically, so a run killed at any moment resumes from a complete one.</summary>
public sealed class TrainingCheckpoints(string outputFolder)
{
    private readonly string root = Path.Combine(outputFolder, "checkpoints");

    /// <summary>The newest complete checkpoint folder, or null when the run has none yet.</summary>
    /// <exception cref="CheckpointFormatException"><c>latest</c> names no checkpoint folder: starting over would
    /// delete the checkpoints there are and overwrite the metrics, so the damage is reported instead.</exception>
    public string? Latest
    {
        get
        {
            string pointer = Path.Combine(root, "latest");
            if (!File.Exists(pointer)) return null;
            string name = File.ReadAllText(pointer).Trim();
            string folder = Path.Combine(root, name);
            if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || !Directory.Exists(folder))
                throw new CheckpointFormatException(pointer,
                    $"names the checkpoint '{name}', which is not in {root}; repair or remove the pointer to resume from the checkpoints that are there");
            return folder;
        }
    }

    /// <summary>Writes a checkpoint and points <c>latest</c> at it; keeps the newest <paramref name="keep"/> ones.</summary>
    public string Save(TrainingModel model, OptimizerHelper optimizer, TrainingState state, int keep = 2)
    {
        Directory.CreateDirectory(root);
        string name = $"step-{state.GlobalStep:D7}";
        string final = Path.Combine(root, name), temp = final + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        model.Save(Path.Combine(temp, "model.safetensors"));
        optimizer.save_state_dict(Path.Combine(temp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(temp, "state.json"), state.ToJson());
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        AtomicFile.WriteAllText(Path.Combine(root, "latest"), name);
        foreach (var old in Directory.GetDirectories(root, "step-*").Where(d => !d.EndsWith(".tmp")).Order(StringComparer.Ordinal).SkipLast(keep))
            Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Loads model weights and returns the state; the optimizer state is loaded by <see cref="LoadOptimizer"/>
    /// once the optimizer for the state's stage exists.</summary>
    public static TrainingState LoadModel(string folder, TrainingModel model)
    {
        model.Load(Path.Combine(folder, "model.safetensors"));
        string statePath = Path.Combine(folder, "state.json");
        var state = Damaged(statePath, () => TrainingState.Load(statePath));
        Damaged(statePath, () =>
        {
            using var rng = torch.tensor(Convert.FromBase64String(state.TorchRngState));
            torch.set_rng_state(rng);
            return 0;
        });
        return state;
    }

    /// <summary>Restores the optimizer's moments and step counts.</summary>
    public static void LoadOptimizer(string folder, OptimizerHelper optimizer)
    {
        string path = Path.Combine(folder, "optimizer.bin");
        Damaged(path, () => { optimizer.load_state_dict(path); return 0; });
    }

    // A checkpoint file that does not read is a damaged checkpoint (exit 2 in the CLI), named, whatever the reader
    // threw ("Attempted to read past the end of the stream" names nothing).
    private static T Damaged<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is not (CheckpointFormatException or OperationCanceledException or OutOfMemoryException))
        {
            string reason = e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message;
            throw new CheckpointFormatException(path, $"cannot be read ({reason.TrimEnd('.')}); the checkpoint is damaged", e);
        }
    }

    /// <summary>The generator state as base64, for <see cref="TrainingState.TorchRngState"/>.</summary>
    public static string CaptureRng()
    {
        using var state = torch.get_rng_state();
        return Convert.ToBase64String(state.bytes.ToArray());
    }
}
