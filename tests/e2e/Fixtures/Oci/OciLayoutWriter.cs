using System.Text.Json;

namespace Crisp.E2E.Fixtures;

/// <summary>Writes blobs and the top-level files of an OCI image layout directory (image-layout spec 1.0).</summary>
internal sealed class OciLayoutWriter
{
    public OciLayoutWriter(string directory)
    {
        Directory = directory;
        BlobDirectory = Path.Combine(directory, "blobs", "sha256");
        System.IO.Directory.CreateDirectory(BlobDirectory);
    }

    public string Directory { get; }

    public string BlobDirectory { get; }

    /// <summary>Stores the bytes under their digest (once) and returns that digest.</summary>
    public async Task<string> WriteBlobAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var digest = Sha256Digest.Of(content.Span);
        var path = Path.Combine(BlobDirectory, Sha256Digest.Hex(digest));
        if (!File.Exists(path))
        {
            var partial = path + ".partial";
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await file.WriteAsync(content, cancellationToken);
            }

            File.Move(partial, path, overwrite: true);
        }

        return digest;
    }

    /// <summary>Writes oci-layout and index.json pointing <paramref name="tag"/> at <paramref name="root"/>.</summary>
    public async Task WriteIndexAsync(OciDescriptor root, string tag, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(Path.Combine(Directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", cancellationToken);
        var index = OciJson.Write(writer =>
        {
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", OciMediaTypes.ImageIndex);
            writer.WriteStartArray("manifests");
            OciJson.WriteDescriptor(writer, root, new Dictionary<string, string> { [OciMediaTypes.RefNameAnnotation] = tag });
            writer.WriteEndArray();
        });
        await File.WriteAllBytesAsync(Path.Combine(Directory, "index.json"), index, cancellationToken);
    }
}
