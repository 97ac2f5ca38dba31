namespace Crisp.E2E.Fixtures;

/// <summary>Writes a multi-platform image: one manifest per platform under an OCI image index.</summary>
public sealed class OciIndexBuilder
{
    private readonly List<OciImageBuilder> _images = [];

    /// <summary>Adds a platform image; its platform is <see cref="ImageConfigSpec.Platform"/> of its config.</summary>
    public OciIndexBuilder AddImage(OciImageBuilder image)
    {
        if (_images.Any(i => i.Config.Platform == image.Config.Platform))
        {
            throw new ArgumentException($"the index already has a {image.Config.Platform} image", nameof(image));
        }

        _images.Add(image);
        return this;
    }

    public async Task<BuiltImage> WriteLayoutAsync(string directory, string tag = "latest", string? name = null, CancellationToken cancellationToken = default)
    {
        if (_images.Count == 0)
        {
            throw new InvalidOperationException("an image index needs at least one platform image");
        }

        name ??= Path.GetFileName(directory);
        var writer = new OciLayoutWriter(directory);
        var platformImages = new List<BuiltImage>();
        foreach (var image in _images)
        {
            platformImages.Add(await image.WriteBlobsAsync(writer, tag, name, cancellationToken));
        }

        var index = OciJson.Write(json =>
        {
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", OciMediaTypes.ImageIndex);
            json.WriteStartArray("manifests");
            foreach (var image in platformImages)
            {
                OciJson.WriteDescriptor(json, new OciDescriptor(image.ManifestMediaType, image.ManifestDigest, image.ManifestSize, image.Platform));
            }

            json.WriteEndArray();
        });
        var indexDigest = await writer.WriteBlobAsync(index, cancellationToken);
        await writer.WriteIndexAsync(new OciDescriptor(OciMediaTypes.ImageIndex, indexDigest, index.Length), tag, cancellationToken);

        // The host platform's image stands for the index: it is what a runtime on this machine resolves.
        var resolved = platformImages.FirstOrDefault(i => i.Platform == OciPlatform.Host) ?? platformImages[0];
        return resolved with
        {
            ManifestDigest = indexDigest,
            ManifestMediaType = OciMediaTypes.ImageIndex,
            ManifestSize = index.Length,
            PlatformImages = platformImages,
        };
    }
}
