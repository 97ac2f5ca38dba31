using System.Text.Json;

namespace Crisp.E2E.Fixtures;

/// <summary>Pushes OCI layouts into a test registry and reads them back, with skopeo (1.9 on Debian 12).</summary>
public static class ImagePusher
{
    private const string Skopeo = "skopeo";

    /// <summary>
    /// Pushes <paramref name="image"/> as <c>REPOSITORY:TAG</c> (the image's tag by default) with the registry's own
    /// credentials, keeping every digest; returns the pushed reference "127.0.0.1:PORT/REPOSITORY:TAG".
    /// </summary>
    public static async Task<string> PushAsync(BuiltImage image, RegistryFixture registry, string repository, string? tag = null, CancellationToken cancellationToken = default)
    {
        var reference = registry.Reference(repository, tag ?? image.Tag);
        await PushAsync(image, reference, registry.Credentials, cancellationToken);
        return reference;
    }

    /// <summary>Pushes to an explicit "HOST:PORT/REPOSITORY:TAG", optionally with credentials.</summary>
    public static async Task PushAsync(BuiltImage image, string destinationReference, BasicCredentials? credentials, CancellationToken cancellationToken = default)
    {
        List<string> arguments = ["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"];
        if (image.IsIndex)
        {
            // Without it skopeo copies only the host platform's manifest, and the index digest changes.
            arguments.Add("--all");
        }

        arguments.AddRange(credentials is null ? ["--dest-no-creds"] : ["--dest-creds", credentials.ToSkopeoArgument()]);
        arguments.Add(image.OciReference);
        arguments.Add("docker://" + destinationReference);
        await ToolRunner.RunCheckedAsync(Skopeo, arguments, cancellationToken);
    }

    /// <summary>
    /// Pushes <paramref name="image"/> converted to Docker schema 2 (manifest list for an index). Returns the image
    /// as the registry now holds it: new manifest digests and Docker media types; config (image id), layer blobs
    /// and diff ids unchanged. Only gzip layers can be converted.
    /// </summary>
    public static Task<BuiltImage> PushAsDockerSchema2Async(BuiltImage image, RegistryFixture registry, string repository, string? tag = null, CancellationToken cancellationToken = default) =>
        DockerSchema2Push.PushAsync(image, registry.Reference(repository, tag ?? image.Tag), registry.Credentials, cancellationToken);

    /// <summary>The manifest (or index) bytes as the registry serves them (<c>skopeo inspect --raw</c>).</summary>
    public static async Task<string> InspectRawAsync(string reference, BasicCredentials? credentials = null, CancellationToken cancellationToken = default) =>
        (await ToolRunner.RunCheckedAsync(Skopeo, InspectArguments(reference, credentials, "--raw"), cancellationToken)).StandardOutput;

    /// <summary>The config blob as the registry serves it (<c>skopeo inspect --config --raw</c>), for the host platform.</summary>
    public static async Task<string> InspectRawConfigAsync(string reference, BasicCredentials? credentials = null, CancellationToken cancellationToken = default) =>
        (await ToolRunner.RunCheckedAsync(Skopeo, InspectArguments(reference, credentials, "--config", "--raw"), cancellationToken)).StandardOutput;

    /// <summary>skopeo's summary (Digest, Layers, Env, Labels, Architecture, ...) of the host platform's image.</summary>
    public static async Task<JsonDocument> InspectAsync(string reference, BasicCredentials? credentials = null, CancellationToken cancellationToken = default)
    {
        var result = await ToolRunner.RunCheckedAsync(Skopeo, InspectArguments(reference, credentials), cancellationToken);
        return JsonDocument.Parse(result.StandardOutput);
    }

    /// <summary>Runs an inspect and returns the raw outcome, for tests that expect the registry to refuse.</summary>
    public static Task<ToolResult> TryInspectRawAsync(string reference, BasicCredentials? credentials = null, CancellationToken cancellationToken = default) =>
        ToolRunner.RunAsync(Skopeo, InspectArguments(reference, credentials, "--raw"), cancellationToken);

    private static List<string> InspectArguments(string reference, BasicCredentials? credentials, params string[] extra)
    {
        List<string> arguments = ["inspect", "--tls-verify=false", .. extra];
        arguments.AddRange(credentials is null ? ["--no-creds"] : ["--creds", credentials.ToSkopeoArgument()]);
        arguments.Add("docker://" + reference);
        return arguments;
    }
}
