using Crisp.Cri.V1;
using Grpc.Core;

namespace Crisp.Server.Services.Image;

public sealed partial class CrispImageService
{
    /// <summary>Images per message: keeps each response far below gRPC's default 4 MiB limit even with long tag lists.</summary>
    private const int StreamImagesBatch = 200;

    public override async Task StreamImages(StreamImagesRequest request, IServerStreamWriter<StreamImagesResponse> responseStream, ServerCallContext context)
    {
        string handler = RuntimeHandler(request.Filter?.Image, "StreamImagesRequest.filter.image.runtime_handler");
        var selected = await ImageMessages.SelectAsync(images, request.Filter, context.CancellationToken);
        await StreamPaging.WritePagesAsync(selected, batch => new StreamImagesResponse { Images = { batch.Select(image => ImageMessages.ToCri(image, handler)) } },
            responseStream, context.CancellationToken, StreamImagesBatch);
    }
}
