import Foundation

extension Safetensors {
    /// A safetensors file memory-mapped and left in place: tensors are read piece by piece, converted to float only
    /// where they are read, so several large files (teacher caches) need not sit in memory at once.
    public final class Mapped {
        public struct Entry { public let dtype: DType; public let shape: [Int]; let offset: Int }
        public let path: String
        public let metadata: [String: String]
        public let entries: [String: Entry]
        let data: Data

        public init(_ path: String) throws {
            func fail(_ s: String) -> Error { Error(path: path, problem: s) }
            guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
            do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) }
            catch { throw fail("cannot read (\(error.localizedDescription))") }
            self.path = path
            let header = try Safetensors.header(data, fail: fail)
            metadata = header.metadata
            entries = header.entries.mapValues { Entry(dtype: $0.dtype, shape: $0.shape, offset: header.dataStart + $0.begin) }
        }

        /// `count` values of tensor `name` from element `start` on, as floats, into `out`.
        public func read(_ name: String, from start: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
            let e = entries[name]!
            precondition(start >= 0 && start + count <= e.shape.reduce(1, *), "read past the end of '\(name)'")
            data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + e.offset
                switch e.dtype {
                case .f32:
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * (start + i), as: UInt32.self))) }
                case .f16:
                    for i in 0..<count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * (start + i), as: UInt16.self)))) }
                case .bf16:
                    for i in 0..<count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * (start + i), as: UInt16.self))) << 16) }
                }
            }
        }

        /// The whole of tensor `name`, as floats.
        public func tensor(_ name: String) -> Tensor? {
            guard let e = entries[name] else { return nil }
            let n = e.shape.reduce(1, *)
            var values = Tensor.zeroedStorage(n)
            values.withUnsafeMutableBufferPointer { read(name, from: 0, count: n, into: $0.baseAddress!) }
            return Tensor(shape: e.shape, data: values)
        }
    }

    /// Writes tensors already held as float16 bit patterns (little-endian), streaming each to the file in name order
    /// without a second copy, through a temporary name.
    public static func writeHalfPrecision(_ tensors: [String: (shape: [Int], bits: [UInt16])], to path: String,
                                          metadata: [String: String] = [:]) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let (shape, bits) = tensors[name]!
            precondition(shape.reduce(1, *) == bits.count, "'\(name)': \(bits.count) values for shape \(shape)")
            header[name] = ["dtype": DType.f16.rawValue, "shape": shape, "data_offsets": [offset, offset + 2 * bits.count]] as [String: Any]
            offset += 2 * bits.count
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw Error(path: path, problem: "cannot write (cannot create \(partial))")
        }
        do {
            var prefix = Data()
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { prefix.append(contentsOf: $0) }
            prefix.append(json)
            try handle.write(contentsOf: prefix)
            for name in names { try tensors[name]!.bits.withUnsafeBytes { try handle.write(contentsOf: Data($0)) } }
            try handle.close()
            _ = try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? handle.close(); try? FileManager.default.removeItem(atPath: partial)
            throw Error(path: path, problem: "cannot write (\(error.localizedDescription))")
        }
    }

    struct Header {
        struct Entry { let dtype: DType; let shape: [Int]; let begin: Int }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        var dataStart = 0
    }

    /// The header of a safetensors file, each entry checked against the file's size.
    static func header(_ data: Data, fail: (String) -> Error) throws -> Header {
        guard data.count >= 8 else { throw fail("not a safetensors file (too short)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength < 100_000_000 else {
            throw fail("truncated or not a safetensors file (header of \(headerLength) bytes in a \(data.count)-byte file)")
        }
        let headerEnd = 8 + Int(headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw fail("malformed header (not a JSON object)")
        }
        let payload = data.count - headerEnd
        var header = Header(dataStart: headerEnd)
        if let meta = json["__metadata__"] {
            guard let m = meta as? [String: String] else { throw fail("malformed __metadata__ (must map strings to strings)") }
            header.metadata = m
        }
        for (name, value) in json where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dt = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw fail("malformed entry for '\(name)'")
            }
            guard let dtype = DType(rawValue: dt) else { throw fail("tensor '\(name)' has unsupported dtype \(dt) (F32, F16, BF16 are read)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)' has a negative dimension") }
            let count = shape.reduce(1, *)
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= payload else {
                throw fail("tensor '\(name)' lies outside the file (bytes \(begin)..<\(end) of \(payload)); truncated?")
            }
            guard end - begin == count * dtype.size else {
                throw fail("tensor '\(name)' has \(end - begin) bytes for shape \(shape) of \(dt)")
            }
            header.entries[name] = Header.Entry(dtype: dtype, shape: shape, begin: begin)
        }
        return header
    }
}
