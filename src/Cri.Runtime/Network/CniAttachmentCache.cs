using System.Text.Json;
using System.Text.Json.Nodes;
using Crisp.Runtime.Api;

namespace Crisp.Runtime.Network;

/// <summary>
/// One file per attached pod under crisp's persistent root (not the tmpfs run dir: after a reboot, host-local
/// allocations on disk still need their DEL). Written before ADD runs, so a crash in the middle of ADD leaves
/// enough behind for recovery to DEL, and rewritten with the result once ADD succeeds.
/// </summary>
public sealed class CniAttachmentCache(string directory)
{
    public string Directory => directory;

    public Task SaveAsync(CniAttachment attachment, CancellationToken ct) =>
        Host.AtomicFile.WriteAsync(PathOf(attachment.SandboxId), JsonSerializer.SerializeToUtf8Bytes(attachment.ToJson(), CniJsonContext.Default.JsonObject), Interop.FileModes.PrivateFile, ct);

    /// <summary>The pod's attachment, or null when it has none (never attached, or already detached).</summary>
    public CniAttachment? Load(string sandboxId)
    {
        var path = PathOf(sandboxId);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        // Another pod's detach may delete its file between listing and reading: that pod has no attachment any more.
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        try
        {
            return CniAttachment.FromJson(JsonNode.Parse(bytes) as JsonObject ?? throw new FormatException("not a JSON object"));
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new RuntimeException(RuntimeErrorKind.Internal, $"CNI attachment cache {path} of pod sandbox {sandboxId} is unreadable: {e.Message}", e);
        }
    }

    public IEnumerable<CniAttachment> All()
    {
        if (!System.IO.Directory.Exists(directory)) yield break;
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.json"))
        {
            CniAttachment? attachment;
            try { attachment = Load(Path.GetFileNameWithoutExtension(file)); }
            catch (RuntimeException) { continue; }
            if (attachment is not null) yield return attachment;
        }
    }

    public void Delete(string sandboxId) => File.Delete(PathOf(sandboxId));

    private string PathOf(string sandboxId) =>
        Path.Combine(directory, State.ObjectIds.RequireFileNameSafe(sandboxId, "pod_sandbox_id") + ".json");
}
