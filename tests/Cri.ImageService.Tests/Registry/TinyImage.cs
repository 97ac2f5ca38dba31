using Crisp.ImageService.Manifests;

namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>The smallest pullable image: a "{}" config and no layers, pushed as app:v1.</summary>
internal static class TinyImage
{
    /// <returns>The manifest digest.</returns>
    public static string Push(FakeRegistry registry) => Push(registry, out _);

    public static string Push(FakeRegistry registry, out Descriptor config)
    {
        byte[] configBytes = "{}"u8.ToArray();
        config = new Descriptor(MediaTypes.OciConfig, registry.AddBlob(configBytes), configBytes.Length);
        byte[] manifest = System.Text.Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{config.MediaType}}","digest":"{{config.Digest}}","size":{{config.Size}}},"layers":[]}
            """);
        return registry.AddManifest("app", manifest, MediaTypes.OciManifest, "v1");
    }
}
