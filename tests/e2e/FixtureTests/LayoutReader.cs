using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Crisp.E2E.Fixtures;
using ZstdSharp;

namespace Crisp.E2E.FixtureTests;

/// <summary>Reads back what the builder wrote, independently of the builder's own bookkeeping.</summary>
internal static class LayoutReader
{
    public static byte[] Blob(BuiltImage image, string digest) => File.ReadAllBytes(image.BlobPath(digest));

    public static JsonDocument Json(BuiltImage image, string digest) => JsonDocument.Parse(Blob(image, digest));

    public static byte[] Decompress(byte[] blob, string mediaType)
    {
        switch (mediaType)
        {
            case OciMediaTypes.Layer:
                return blob;
            case OciMediaTypes.LayerGzip:
            {
                using var gzip = new GZipStream(new MemoryStream(blob), CompressionMode.Decompress);
                using var output = new MemoryStream();
                gzip.CopyTo(output);
                return output.ToArray();
            }

            case OciMediaTypes.LayerZstd:
            {
                using var decompressor = new Decompressor();
                return decompressor.Unwrap(blob).ToArray();
            }

            default:
                throw new ArgumentException($"unexpected layer media type {mediaType}", nameof(mediaType));
        }
    }

    public static List<TarEntry> Entries(byte[] tar)
    {
        var entries = new List<TarEntry>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            entries.Add(entry);
        }

        return entries;
    }

    public static string Text(TarEntry entry)
    {
        using var reader = new StreamReader(entry.DataStream!);
        return reader.ReadToEnd();
    }
}
