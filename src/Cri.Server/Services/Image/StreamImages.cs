using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>Images per message: keeps each response far below gRPC's default 4 MiB limit even with long tag lists.</summary>
    private const int StreamImagesBatch = 200;

    public override async Task StreamImages(StreamImagesRequest request, IServerStreamWriter<StreamImagesResponse> responseStream, ServerCallContext context)
    {
        var selected = await ImageMessages.SelectAsync(images, request.Filter, context.CancellationToken);
        foreach (var batch in selected.Chunk(StreamImagesBatch))
        {
            var response = new StreamImagesResponse();
            response.Images.AddRange(batch.Select(ImageMessages.ToCri));
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}
