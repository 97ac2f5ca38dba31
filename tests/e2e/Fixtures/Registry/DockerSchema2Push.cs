using System.Text;
using System.Text.Json;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// Pushes an OCI-built image converted to Docker schema 2 (skopeo --format v2s2). skopeo cannot read Docker
/// manifests from an OCI layout, so the conversion happens on push and the new manifest digests are read back.
/// Config and layer blobs are unchanged by the conversion (checked), so the image id stays the same.
/// </summary>
internal static class DockerSchema2Push
{
    public static async Task<BuiltImage> PushAsync(BuiltImage image, string reference, BasicCredentials? credentials, CancellationToken cancellationToken)
    {
        if (image.AllManifests().SelectMany(m => m.Layers).Any(l => l.Compression != LayerCompression.Gzip))
        {
            throw new ArgumentException($"image '{image.Name}' has non-gzip layers; Docker schema 2 only carries gzip layers here", nameof(image));
        }

        List<string> arguments = ["copy", "--quiet", "--dest-tls-verify=false", "--format", "v2s2"];
        if (image.IsIndex)
        {
            arguments.Add("--all");
        }

        arguments.AddRange(credentials is null ? ["--dest-no-creds"] : ["--dest-creds", credentials.ToSkopeoArgument()]);
        arguments.Add(image.OciReference);
        arguments.Add("docker://" + reference);
        await ToolRunner.RunCheckedAsync("skopeo", arguments, cancellationToken);

        var raw = Encoding.UTF8.GetBytes(await ImagePusher.InspectRawAsync(reference, credentials, cancellationToken));
        if (!image.IsIndex)
        {
            return Converted(image, raw, image.Name);
        }

        using var list = JsonDocument.Parse(raw);
        var repository = reference[..reference.LastIndexOf(':')];
        var children = new List<BuiltImage>();
        foreach (var entry in list.RootElement.GetProperty("manifests").EnumerateArray())
        {
            var platform = entry.GetProperty("platform");
            var variant = platform.TryGetProperty("variant", out var v) ? v.GetString() : null;
            var original = image.ForPlatform(new OciPlatform(platform.GetProperty("os").GetString()!, platform.GetProperty("architecture").GetString()!, variant));
            var childRaw = Encoding.UTF8.GetBytes(await ImagePusher.InspectRawAsync($"{repository}@{entry.GetProperty("digest").GetString()}", credentials, cancellationToken));
            children.Add(Converted(original, childRaw, image.Name));
        }

        var resolved = children.FirstOrDefault(c => c.Platform == OciPlatform.Host) ?? children[0];
        return resolved with
        {
            ManifestDigest = Sha256Digest.Of(raw),
            ManifestMediaType = DockerMediaTypes.ManifestList,
            ManifestSize = raw.Length,
            PlatformImages = children,
        };
    }

    private static BuiltImage Converted(BuiltImage original, byte[] raw, string name)
    {
        using var manifest = JsonDocument.Parse(raw);
        var root = manifest.RootElement;
        var configDigest = root.GetProperty("config").GetProperty("digest").GetString();
        if (configDigest != original.ConfigDigest)
        {
            throw new InvalidOperationException($"converting '{original.Name}' to Docker schema 2 changed its config digest ({original.ConfigDigest} -> {configDigest})");
        }

        var layers = root.GetProperty("layers").EnumerateArray().Select((layer, i) => original.Layers[i] with
        {
            MediaType = layer.GetProperty("mediaType").GetString()!,
            Digest = layer.GetProperty("digest").GetString()!,
            Size = layer.GetProperty("size").GetInt64(),
        }).ToArray();
        if (!layers.Select(l => l.Digest).SequenceEqual(original.LayerDigests))
        {
            throw new InvalidOperationException($"converting '{original.Name}' to Docker schema 2 changed its layer blobs");
        }

        return original with
        {
            Name = name,
            ManifestDigest = Sha256Digest.Of(raw),
            ManifestMediaType = root.GetProperty("mediaType").GetString()!,
            ManifestSize = raw.Length,
            Layers = layers,
        };
    }
}
