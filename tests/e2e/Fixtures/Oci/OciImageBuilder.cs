namespace Crisp.E2E.Fixtures;

/// <summary>Assembles layers and a config into an OCI image manifest and writes it as an OCI image layout.</summary>
public sealed class OciImageBuilder
{
    private readonly List<CompressedLayer> _layers = [];

    public OciImageBuilder(ImageConfigSpec? config = null)
    {
        Config = config ?? new ImageConfigSpec();
    }

    public ImageConfigSpec Config { get; set; }

    public IReadOnlyList<CompressedLayer> Layers => _layers;

    public OciImageBuilder WithConfig(ImageConfigSpec config)
    {
        Config = config;
        return this;
    }

    /// <summary>Adds an already compressed layer, e.g. a base layer shared between images.</summary>
    public OciImageBuilder AddLayer(CompressedLayer layer)
    {
        _layers.Add(layer);
        return this;
    }

    public OciImageBuilder AddLayer(LayerBuilder layer, LayerCompression compression = LayerCompression.Gzip) =>
        AddLayer(layer.Build(compression));

    /// <summary>Writes a fresh layout in <paramref name="directory"/> whose index.json names the image <paramref name="tag"/>.</summary>
    public async Task<BuiltImage> WriteLayoutAsync(string directory, string tag = "latest", string? name = null, CancellationToken cancellationToken = default)
    {
        var writer = new OciLayoutWriter(directory);
        var image = await WriteBlobsAsync(writer, tag, name ?? Path.GetFileName(directory), cancellationToken);
        await writer.WriteIndexAsync(new OciDescriptor(image.ManifestMediaType, image.ManifestDigest, image.ManifestSize), tag, cancellationToken);
        return image;
    }

    /// <summary>Writes layers, config and manifest as blobs (no index.json), for use inside an index.</summary>
    internal async Task<BuiltImage> WriteBlobsAsync(OciLayoutWriter writer, string tag, string name, CancellationToken cancellationToken)
    {
        if (_layers.Count == 0)
        {
            throw new InvalidOperationException($"image '{name}' has no layers");
        }

        var descriptors = _layers.Select(l => l.Descriptor).ToArray();
        foreach (var layer in _layers)
        {
            await writer.WriteBlobAsync(layer.Blob, cancellationToken);
        }

        var config = ImageConfigJson.Create(Config, descriptors);
        var configDigest = await writer.WriteBlobAsync(config, cancellationToken);
        var manifest = OciJson.Write(json =>
        {
            json.WriteNumber("schemaVersion", 2);
            json.WriteString("mediaType", OciMediaTypes.ImageManifest);
            json.WritePropertyName("config");
            OciJson.WriteDescriptor(json, new OciDescriptor(OciMediaTypes.ImageConfig, configDigest, config.Length));
            json.WriteStartArray("layers");
            foreach (var layer in descriptors)
            {
                OciJson.WriteDescriptor(json, new OciDescriptor(layer.MediaType, layer.Digest, layer.Size));
            }

            json.WriteEndArray();
        });
        var manifestDigest = await writer.WriteBlobAsync(manifest, cancellationToken);
        return new BuiltImage
        {
            Name = name,
            LayoutDirectory = writer.Directory,
            Tag = tag,
            ManifestDigest = manifestDigest,
            ManifestMediaType = OciMediaTypes.ImageManifest,
            ManifestSize = manifest.Length,
            ConfigDigest = configDigest,
            ConfigSize = config.Length,
            Config = Config,
            Layers = descriptors,
        };
    }
}
