import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name to its dtype,
/// shape and byte range (plus optional string metadata under "__metadata__"), then the raw little-endian data.
/// Reading maps the file and converts F16 and BF16 to float32; every malformed file is an error, never a crash.
public enum Safetensors {
    public enum DType: String, Sendable { case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var size: Int { self == .f32 ? 4 : 2 }
    }

    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let path: String, problem: String
        public init(path: String, problem: String) { self.path = path; self.problem = problem }
        public var description: String { "\(path): \(problem)" }
    }

    public struct File {
        public var tensors: [String: Tensor]
        public var dtypes: [String: DType]
        public var metadata: [String: String]
    }

    public static func read(_ path: String) throws -> File {
        func fail(_ s: String) -> Error { Error(path: path, problem: s) }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw fail("no such file") }
        if isFolder.boolValue { throw fail("is a folder, not a safetensors file") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
        catch { throw fail("cannot read (\(error.localizedDescription))") }
        return try parse(data, fail: fail)
    }

    public static func parse(_ data: Data, path: String = "<memory>") throws -> File {
        try parse(data) { Error(path: path, problem: $0) }
    }

    static func parse(_ data: Data, fail: (String) -> Error) throws -> File {
        let header = try header(data, fail: fail)
        var file = File(tensors: [:], dtypes: [:], metadata: header.metadata)
        for (name, entry) in header.entries {
            let count = entry.shape.reduce(1, *), dtype = entry.dtype
            var values = Tensor.zeroedStorage(count)
            data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + header.dataStart + entry.begin
                switch dtype {
                case .f32: for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case .f16: for i in 0..<count { values[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))) }
                case .bf16: for i in 0..<count { values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16) }
                }
            }
            file.tensors[name] = Tensor(shape: entry.shape, data: values)
            file.dtypes[name] = dtype
        }
        return file
    }

    /// The file's bytes: tensors in name order, stored as `dtype` (F32 or F16), with string metadata.
    public static func serialise(_ tensors: [String: Tensor], dtype: DType = .f32, metadata: [String: String] = [:]) -> Data {
        precondition(dtype != .bf16, "writing BF16 is not supported")
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            let bytes = t.count * dtype.size
            header[name] = ["dtype": dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }   // pad with spaces so the data starts 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            let t = tensors[name]!
            if dtype == .f32 {
                t.data.withUnsafeBytes { out.append(contentsOf: $0) }
            } else {
                let halves = t.data.map { Float16($0).bitPattern.littleEndian }
                halves.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes atomically (a temporary name, then rename).
    public static func write(_ tensors: [String: Tensor], to path: String, dtype: DType = .f32, metadata: [String: String] = [:]) throws {
        do { try serialise(tensors, dtype: dtype, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw Error(path: path, problem: "cannot write (\(error.localizedDescription))") }
    }
}
