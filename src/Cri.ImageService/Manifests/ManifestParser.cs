using System.Text.Json;
using Crisp.ImageService.Api;
using Crisp.ImageService.References;

namespace Crisp.ImageService.Manifests;

/// <summary>
/// Parses OCI image manifests/indexes and Docker schema2 manifests/manifest lists. The document's
/// own mediaType field decides what it is; the HTTP Content-Type is only the fallback for documents
/// that omit it (allowed for OCI). Schema1 and unknown types are refused.
/// </summary>
public static class ManifestParser
{
    /// <summary>Registries and containerd refuse manifests above this size; so do we, before parsing.</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <param name="content">The manifest bytes.</param>
    /// <param name="contentType">The Content-Type the registry served (parameters allowed), or null.</param>
    /// <param name="what">Names the document in errors, e.g. "manifest sha256:... of docker.io/library/busybox".</param>
    public static ManifestDocument Parse(ReadOnlySpan<byte> content, string? contentType, string what)
    {
        if (content.Length > MaxManifestBytes)
        {
            throw new ImageServiceException(ImageErrorKind.ResourceExhausted, $"{what}: manifest larger than 4 MiB ({content.Length} bytes)");
        }
        string? headerType = NormaliseContentType(contentType);
        if (headerType is not null && MediaTypes.IsSchema1(headerType))
        {
            throw Schema1(what);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"{what}: not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(what, "top-level value is not an object");
            }
            if (root.TryGetProperty("schemaVersion", out JsonElement schemaVersion) && schemaVersion.ValueKind == JsonValueKind.Number
                && schemaVersion.TryGetInt32(out int version) && version == 1)
            {
                throw Schema1(what);
            }
            string? fieldType = OptionalString(root, "mediaType", what);
            string mediaType = fieldType ?? headerType ?? GuessOciType(root)
                ?? throw new ImageServiceException(ImageErrorKind.FailedPrecondition, $"{what}: document has no mediaType and the registry sent no usable Content-Type");
            if (MediaTypes.IsSchema1(mediaType))
            {
                throw Schema1(what);
            }
            if (MediaTypes.IsManifest(mediaType))
            {
                return new ManifestDocument(mediaType, ParseManifest(root, mediaType, what), null);
            }
            if (MediaTypes.IsIndex(mediaType))
            {
                return new ManifestDocument(mediaType, null, ParseIndex(root, mediaType, what));
            }
            throw new ImageServiceException(ImageErrorKind.FailedPrecondition, $"{what}: unsupported manifest media type \"{mediaType}\"");
        }
    }

    /// <summary>Parses a single-platform manifest; an index here is an error.</summary>
    public static ImageManifest ParseImageManifest(ReadOnlySpan<byte> content, string? contentType, string what)
    {
        ManifestDocument document = Parse(content, contentType, what);
        return document.Manifest
            ?? throw new ImageServiceException(ImageErrorKind.FailedPrecondition, $"{what}: expected an image manifest, got {document.MediaType}");
    }

    private static ImageManifest ParseManifest(JsonElement root, string mediaType, string what)
    {
        JsonElement config = Required(root, "config", JsonValueKind.Object, what);
        JsonElement layers = Required(root, "layers", JsonValueKind.Array, what);
        Descriptor configDescriptor = ParseDescriptor(config, what, "config");
        var layerDescriptors = new List<Descriptor>(layers.GetArrayLength());
        int index = 0;
        foreach (JsonElement layer in layers.EnumerateArray())
        {
            layerDescriptors.Add(ParseDescriptor(layer, what, $"layers[{index++}]"));
        }
        return new ImageManifest(mediaType, configDescriptor, layerDescriptors) { Annotations = ParseAnnotations(root, what, "annotations") };
    }

    private static ImageIndex ParseIndex(JsonElement root, string mediaType, string what)
    {
        JsonElement manifests = Required(root, "manifests", JsonValueKind.Array, what);
        var entries = new List<Descriptor>(manifests.GetArrayLength());
        int index = 0;
        foreach (JsonElement entry in manifests.EnumerateArray())
        {
            entries.Add(ParseDescriptor(entry, what, $"manifests[{index++}]"));
        }
        return new ImageIndex(mediaType, entries) { Annotations = ParseAnnotations(root, what, "annotations") };
    }

    private static Descriptor ParseDescriptor(JsonElement element, string what, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(what, $"{path} is not an object");
        }
        string mediaType = OptionalString(element, "mediaType", what) ?? throw Invalid(what, $"{path}.mediaType is missing");
        string digest = OptionalString(element, "digest", what) ?? throw Invalid(what, $"{path}.digest is missing");
        string? digestProblem = Digests.Validate(digest);
        if (digestProblem is not null)
        {
            throw Invalid(what, $"{path}.digest \"{digest}\": {digestProblem}");
        }
        if (!element.TryGetProperty("size", out JsonElement sizeElement) || sizeElement.ValueKind != JsonValueKind.Number
            || !sizeElement.TryGetInt64(out long size) || size < 0)
        {
            throw Invalid(what, $"{path}.size is missing or not a non-negative integer");
        }

        List<string>? urls = null;
        if (element.TryGetProperty("urls", out JsonElement urlsElement) && urlsElement.ValueKind == JsonValueKind.Array)
        {
            urls = [];
            foreach (JsonElement url in urlsElement.EnumerateArray())
            {
                urls.Add(url.ValueKind == JsonValueKind.String ? url.GetString()! : throw Invalid(what, $"{path}.urls must hold strings"));
            }
        }

        Platform? platform = null;
        if (element.TryGetProperty("platform", out JsonElement platformElement) && platformElement.ValueKind == JsonValueKind.Object)
        {
            string os = OptionalString(platformElement, "os", what) ?? throw Invalid(what, $"{path}.platform.os is missing");
            string architecture = OptionalString(platformElement, "architecture", what) ?? throw Invalid(what, $"{path}.platform.architecture is missing");
            platform = new Platform(os, architecture, OptionalString(platformElement, "variant", what));
        }

        return new Descriptor(mediaType, digest, size, urls, platform, ParseAnnotations(element, what, path + ".annotations"));
    }

    private static Dictionary<string, string>? ParseAnnotations(JsonElement element, string what, string path)
    {
        if (!element.TryGetProperty("annotations", out JsonElement annotations) || annotations.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (annotations.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(what, $"{path} is not an object");
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty property in annotations.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : throw Invalid(what, $"{path}.{property.Name} is not a string");
        }
        return result;
    }

    // OCI allows omitting mediaType; the shape then tells manifest from index.
    private static string? GuessOciType(JsonElement root) =>
        root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex
        : root.TryGetProperty("config", out _) && root.TryGetProperty("layers", out _) ? MediaTypes.OciManifest
        : null;

    private static string? NormaliseContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }
        int semicolon = contentType.IndexOf(';');
        string type = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
        // Generic JSON says nothing about which manifest kind this is.
        return type is "application/json" or "text/plain" or "application/octet-stream" ? null : type;
    }

    private static JsonElement Required(JsonElement root, string name, JsonValueKind kind, string what) =>
        root.TryGetProperty(name, out JsonElement value) && value.ValueKind == kind
            ? value
            : throw Invalid(what, $"\"{name}\" is missing or not {(kind == JsonValueKind.Array ? "an array" : "an object")}");

    private static string? OptionalString(JsonElement element, string name, string what) =>
        !element.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw Invalid(what, $"\"{name}\" is not a string");

    private static ImageServiceException Invalid(string what, string reason) =>
        new(ImageErrorKind.InvalidArgument, $"{what}: invalid manifest: {reason}");

    private static ImageServiceException Schema1(string what) =>
        new(ImageErrorKind.FailedPrecondition, $"{what}: schema1 manifests are not supported (push the image again with a current client to get a schema2 or OCI manifest)");
}
