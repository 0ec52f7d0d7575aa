`timescale 1ns/1ps
`default_nettype none
// noc_fifo: input buffer of one router port, DEPTH flits of W bits.
// `ready` comes from the registered count only (a pop in the same cycle frees its slot
// one cycle later), so no combinational path crosses a mesh link; codesign/mapping/noc.py
// models exactly this.
module noc_fifo #(
    parameter integer W     = 32,
    parameter integer DEPTH = 4
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         push,    // upstream valid; written when ready
    output wire         ready,
    input  wire [W-1:0] din,
    input  wire         pop,     // head consumed (only when valid)
    output wire         valid,
    output wire [W-1:0] dout
);
    localparam integer AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam integer CW = $clog2(DEPTH + 1);
    localparam integer LAST_I = DEPTH - 1;
    localparam [AW-1:0] LAST = LAST_I[AW-1:0];
    localparam [CW-1:0] FULL = DEPTH[CW-1:0];

    reg [W-1:0]  mem [0:DEPTH-1];
    reg [AW-1:0] rd_ptr;
    reg [AW-1:0] wr_ptr;
    reg [CW-1:0] count;

    wire do_push = push && ready;
    wire do_pop  = pop && valid;

    assign ready = (count != FULL);
    assign valid = (count != {CW{1'b0}});
    assign dout  = mem[rd_ptr];

    always @(posedge clk) begin
        if (do_push) mem[wr_ptr] <= din;
    end

    always @(posedge clk) begin
        if (rst) begin
            rd_ptr <= {AW{1'b0}};
            wr_ptr <= {AW{1'b0}};
            count  <= {CW{1'b0}};
        end else begin
            if (do_push) wr_ptr <= (wr_ptr == LAST) ? {AW{1'b0}} : wr_ptr + 1'b1;
            if (do_pop)  rd_ptr <= (rd_ptr == LAST) ? {AW{1'b0}} : rd_ptr + 1'b1;
            if (do_push && !do_pop) count <= count + 1'b1;
            else if (do_pop && !do_push) count <= count - 1'b1;
        end
    end
endmodule
`default_nettype wire
